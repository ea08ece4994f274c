import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  mtuVerdict,
  nextMtuProbes,
  parsePingOutput,
  pingArgv,
  pingOutcome,
  recordMtuProbe,
  type MtuSearch,
  type PingFailureReason,
} from '../../../src/check/ping.js';
import { capturedRun } from './fixtures.js';

describe('pingArgv', () => {
  it('builds the argv the fixtures were captured with', () => {
    const quick = { count: 3, deadlineSeconds: 2, intervalSeconds: 0.2 };
    assert.equal(pingArgv('127.0.0.1', quick).join(' '), capturedRun('ping/iputils-ok').command);
    assert.equal(
      pingArgv('127.0.0.1', { count: 2, deadlineSeconds: 2, intervalSeconds: 0.2, dontFragmentSize: 1472 }).join(' '),
      capturedRun('ping/iputils-df-message-too-long').command,
    );
    // captured by calling the applet through the busybox binary; in a busybox pod `ping` is that applet
    assert.equal(
      `busybox ${pingArgv('127.0.0.1', { count: 3, deadlineSeconds: 2 }, 'busybox').join(' ')}`,
      capturedRun('ping/busybox-ok').command,
    );
  });
  it('refuses DF with busybox and nonsense counts', () => {
    assert.throws(() => pingArgv('x', { count: 1, deadlineSeconds: 1, dontFragmentSize: 1000 }, 'busybox'), /busybox/);
    assert.throws(() => pingArgv('x', { count: 0, deadlineSeconds: 1 }), /count/);
    assert.throws(() => pingArgv('x', { count: 1, deadlineSeconds: 0.5 }), /deadline/);
  });
});

describe('parsePingOutput on real output', () => {
  it('reads iputils statistics and round-trip times', () => {
    const run = capturedRun('ping/iputils-ok');
    assert.deepEqual(parsePingOutput(run.stdout, run.stderr), {
      address: '127.0.0.1',
      statistics: { transmitted: 3, received: 3, errors: 0, lossPercent: 0 },
      rtt: { minMs: 0.039, avgMs: 0.088, maxMs: 0.177 },
      messages: [],
    });
  });
  it('reads busybox statistics and round-trip times', () => {
    const run = capturedRun('ping/busybox-ok');
    assert.deepEqual(parsePingOutput(run.stdout, run.stderr), {
      address: '127.0.0.1',
      statistics: { transmitted: 2, received: 2, errors: 0, lossPercent: 0 },
      rtt: { minMs: 0.06, avgMs: 0.067, maxMs: 0.074 },
      messages: [],
    });
  });
  it('reads the MTU of a local "message too long" and counts the error', () => {
    const run = capturedRun('ping/iputils-df-message-too-long');
    const report = parsePingOutput(run.stdout, run.stderr);
    assert.equal(report.mtu, 1300);
    assert.deepEqual(report.statistics, { transmitted: 1, received: 0, errors: 1, lossPercent: 100 });
    assert.deepEqual(report.messages, ['ping: local error: message too long, mtu=1300']);
  });
});

describe('pingOutcome: exit status and output → reason', () => {
  const cases: readonly { fixture: string; reason: PingFailureReason | 'ok' }[] = [
    { fixture: 'ping/iputils-ok', reason: 'ok' },
    { fixture: 'ping/iputils-df-ok', reason: 'ok' },
    // busybox exits 1 when fewer than -c replies came before -w; a reply still means reachable
    { fixture: 'ping/busybox-ok', reason: 'ok' },
    { fixture: 'ping/iputils-timeout', reason: 'timeout' },
    { fixture: 'ping/busybox-timeout', reason: 'timeout' },
    { fixture: 'ping/iputils-no-route', reason: 'no-route' },
    { fixture: 'ping/busybox-no-route', reason: 'no-route' },
    { fixture: 'ping/iputils-host-unreachable', reason: 'no-route' },
    { fixture: 'ping/iputils-unresolved', reason: 'unresolved' },
    { fixture: 'ping/busybox-unresolved', reason: 'unresolved' },
    { fixture: 'ping/iputils-filtered', reason: 'filtered' },
    { fixture: 'ping/iputils-df-message-too-long', reason: 'message-too-long' },
  ];
  for (const { fixture, reason } of cases) {
    it(`${fixture} → ${reason}`, () => {
      const run = capturedRun(fixture);
      const outcome = pingOutcome(run.exitCode, run.stdout, run.stderr);
      assert.equal(outcome.ok ? 'ok' : outcome.reason, reason);
    });
  }
  it('names the line that says why', () => {
    const run = capturedRun('ping/iputils-host-unreachable');
    const outcome = pingOutcome(run.exitCode, run.stdout, run.stderr);
    assert.equal(outcome.ok ? '' : outcome.detail, 'From 127.0.0.6 icmp_seq=1 Destination Host Unreachable');
    const timeout = capturedRun('ping/iputils-timeout');
    const silent = pingOutcome(timeout.exitCode, timeout.stdout, timeout.stderr);
    assert.equal(silent.ok ? '' : silent.detail, 'no reply to 10 echo requests');
  });
  it('reads a timeout(1) kill with no output as a timeout, and anything else unexplained as an error', () => {
    assert.equal(pingOutcome(124, '', '').ok ? 'ok' : 'timeout', 'timeout');
    const error = pingOutcome(2, '', "ping: invalid argument: '-x'");
    assert.deepEqual(error.ok ? undefined : [error.reason, error.detail], ['error', "ping: invalid argument: '-x'"]);
  });
});

describe('MTU search', () => {
  const search1200 = (width: number) => {
    // A 1200-byte path: DF payloads up to 1172 pass.
    let search: MtuSearch = recordMtuProbe({ largestPassing: 56, smallestFailing: 1473 }, 1472, false);
    let rounds = 0;
    for (let sizes = nextMtuProbes(search, width); sizes.length > 0; sizes = nextMtuProbes(search, width)) {
      rounds += 1;
      for (const size of sizes) search = recordMtuProbe(search, size, size <= 1172);
    }
    return { search, rounds };
  };
  it('finds the largest passing size one probe at a time (binary search)', () => {
    const { search, rounds } = search1200(1);
    assert.deepEqual(search, { largestPassing: 1172, smallestFailing: 1173 });
    assert.ok(rounds <= 11, `${rounds} rounds`);
  });
  it('needs far fewer rounds with 8 sizes at once', () => {
    const { search, rounds } = search1200(8);
    assert.deepEqual(search, { largestPassing: 1172, smallestFailing: 1173 });
    assert.ok(rounds <= 4, `${rounds} rounds`);
  });
  it('proposes only sizes strictly between the known ones, none once they are adjacent', () => {
    assert.deepEqual(nextMtuProbes({ largestPassing: 1471, smallestFailing: 1472 }, 8), []);
    assert.deepEqual(nextMtuProbes({ largestPassing: 1470, smallestFailing: 1472 }, 8), [1471]);
    assert.deepEqual(nextMtuProbes({ largestPassing: 100, smallestFailing: 200 }, 1), [150]);
  });
});

describe('mtuVerdict', () => {
  it('is ok when the full size passed', () => {
    assert.deepEqual(mtuVerdict({ fromMtu: 1500, toMtu: 1500, largestPassing: 1472 }), { kind: 'ok', pathMtu: 1500 });
  });
  it('names a black hole when large packets vanish silently', () => {
    assert.deepEqual(
      mtuVerdict({ fromMtu: 1500, toMtu: 1500, largestPassing: 1172, fullSizeFailure: { reason: 'timeout' } }),
      { kind: 'black-hole', pathMtu: 1200, interfaceMtu: 1500 },
    );
  });
  it('says fragmentation-needed when the sender was told the MTU', () => {
    assert.deepEqual(
      mtuVerdict({
        fromMtu: 1500,
        toMtu: 1450,
        largestPassing: 1172,
        fullSizeFailure: { reason: 'frag-needed', mtu: 1200 },
      }),
      { kind: 'fragmentation-needed', pathMtu: 1200, interfaceMtu: 1450, reportedMtu: 1200 },
    );
  });
});
