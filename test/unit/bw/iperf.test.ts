import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  clientArgv,
  clientIperfArgv,
  parseIperfJson,
  parseRateSample,
  serverArgv,
  type DirectionResult,
} from '../../../src/bw/iperf.js';
import { routeMtu } from '../../../src/bw/results.js';
import { DEFAULT_TEST } from './data.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../../../test/fixtures/bw/${name}`, import.meta.url), 'utf8');

/** The directions of a fixture that parsed; fails the test with iperf3's error otherwise. */
function directions(name: string): readonly DirectionResult[] {
  const outcome = parseIperfJson(fixture(name));
  assert.ok(outcome.ok, outcome.ok ? '' : outcome.error);
  return outcome.results;
}

describe('parseIperfJson (real iperf3 3.12 output, test/fixtures/bw/README.md)', () => {
  it('TCP, 2 streams: received and sent bits/s, retransmits, mean RTT over the streams, CPU of both ends', () => {
    const [forward, ...rest] = directions('tcp-parallel2.json');
    assert.deepEqual(rest, []);
    assert.equal(forward?.direction, 'forward');
    assert.equal(forward?.bitsPerSecond, 4905353646.610327);
    assert.equal(forward?.sentBitsPerSecond, 4904628829.542436);
    assert.equal(forward?.bytesSent, 1222901760);
    assert.equal(forward?.retransmits, 364);
    assert.equal(forward?.rttMs, (2726 + 3017) / 2 / 1000);
    assert.deepEqual(forward?.cpu, { sender: 27.364171412991894, receiver: 26.010622274964284 });
    assert.equal(forward?.lostPercent, undefined);
  });

  it('UDP: loss and jitter from sum_received (what arrived), no retransmits or RTT', () => {
    const [udp] = directions('udp-1g.json');
    assert.equal(udp?.bitsPerSecond, 416470273.31487817);
    assert.equal(udp?.sentBitsPerSecond, 505991623.05445015);
    assert.equal(udp?.lostPercent, 17.654330879912088);
    assert.equal(udp?.lostPackets, 15423);
    assert.equal(udp?.jitterMs, 0.017483776599012638);
    assert.equal(udp?.retransmits, undefined);
    assert.equal(udp?.rttMs, undefined);
  });

  it('--reverse: the server sent; its retransmits, no RTT (the client does not know it), CPU ends swapped', () => {
    const [reverse] = directions('tcp-reverse.json');
    assert.equal(reverse?.direction, 'reverse');
    assert.equal(reverse?.bitsPerSecond, 6640294583.807945);
    assert.equal(reverse?.retransmits, 92);
    assert.equal(reverse?.rttMs, undefined);
    assert.deepEqual(reverse?.cpu, { sender: 27.871208365979626, receiver: 26.5943027123661 });
  });

  it('--bidir: both directions, the second from the *_bidir_reverse sums', () => {
    const [forward, reverse] = directions('tcp-bidir.json');
    assert.deepEqual(
      [forward?.direction, forward?.bitsPerSecond, forward?.retransmits, forward?.rttMs],
      ['forward', 1873585394.1196368, 2, 1.747],
    );
    assert.deepEqual(
      [reverse?.direction, reverse?.bitsPerSecond, reverse?.retransmits, reverse?.rttMs],
      ['reverse', 1722531803.8236415, 3, undefined],
    );
  });

  it('iperf3’s error, and output that is not JSON (missing binary, killed by the bound)', () => {
    assert.deepEqual(parseIperfJson(fixture('error-refused.json'), '', 1), {
      ok: false,
      error: 'unable to connect to server: Connection refused',
    });
    assert.deepEqual(parseIperfJson('', 'sh: 1: iperf3: not found\n', 127), {
      ok: false,
      error: 'iperf3 printed no JSON: sh: 1: iperf3: not found',
    });
    assert.deepEqual(parseIperfJson('{"start": {', '', 124), {
      ok: false,
      error: 'iperf3 did not finish in time (killed by its bound)',
    });
    assert.deepEqual(parseIperfJson('', '', 137), { ok: false, error: 'iperf3 printed nothing (exit 137)' });
  });
});

describe('iperf3 argv', () => {
  it('the server: bounded by timeout, reset when a client vanished', () => {
    assert.deepEqual(serverArgv(5201, 600.2, 25), [
      'timeout', '-s', 'TERM', '601', 'iperf3', '--server', '--port', '5201', '--idle-timeout', '25',
    ]); // prettier-ignore
  });

  it('the client: JSON, the test’s options, UDP rate, direction', () => {
    assert.deepEqual(clientIperfArgv('10.233.65.10', DEFAULT_TEST), [
      'iperf3', '--client', '10.233.65.10', '--port', '5201', '--json', '--time', '10', '--omit', '1',
      '--parallel', '1', '--connect-timeout', '5000',
    ]); // prettier-ignore
    const udp = clientIperfArgv('10.0.0.1', {
      ...DEFAULT_TEST,
      protocol: 'udp',
      bitrate: 100_000_000,
      length: 1400,
      reverse: true,
    });
    assert.deepEqual(udp.slice(14), ['--udp', '--bitrate', '100000000', '--length', '1400', '--reverse']);
  });

  it('the wrapper passes everything as positional parameters and prints the log file', () => {
    const argv = clientArgv('10.233.65.10', DEFAULT_TEST);
    assert.deepEqual(argv.slice(0, 2), ['sh', '-c']);
    assert.deepEqual(argv.slice(3, 6), ['iperf3-client', '10.233.65.10', 'iperf3']);
    assert.ok(!(argv[2] ?? '').includes('10.233.65.10'), 'the server address is not pasted into the script');
    assert.match(argv[2] ?? '', /--logfile \/tmp\/netdiag-iperf3\.json & pid=\$!/);
    assert.match(argv[2] ?? '', /cat \/tmp\/netdiag-iperf3\.json; rm -f \/tmp\/netdiag-iperf3\.json; exit \$status$/);
  });

  it('rate samples on stderr', () => {
    assert.deepEqual(parseRateSample('netdiag-bytes 123 456'), { tx: 123, rx: 456 });
    assert.equal(parseRateSample('iperf3: error'), undefined);
  });
});

describe('routeMtu (real output, test/fixtures/bw/route-mtu-pod.txt)', () => {
  it('the MTU of the interface the route to the server uses', () => {
    assert.equal(routeMtu(fixture('route-mtu-pod.txt')), 1500);
  });
});
