import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PairResult } from '../../../src/bw/model.js';
import {
  mtuMismatches,
  networkRatios,
  routeMtu,
  testsFor,
  toResults,
  withReceiveBufferErrors,
} from '../../../src/bw/results.js';
import { parseNicStatistics } from '../../../src/node/counters.js';
import { DEFAULT_TEST, pairResult, W1, W2 } from './data.js';

const tcp = DEFAULT_TEST;
const ab = { from: 'a', to: 'b' };
const ba = { from: 'b', to: 'a' };
const ac = { from: 'a', to: 'c' };

describe('testsFor: which iperf3 runs cover the requested directions', () => {
  it('the sender runs the client', () => {
    assert.deepEqual(testsFor({ pairs: [ab, ba, ac], test: tcp }), [ab, ba, ac]);
  });
  it('--reverse: the receiver runs the client and pulls', () => {
    assert.deepEqual(testsFor({ pairs: [ab, ac], test: { ...tcp, reverse: true } }), [ba, { from: 'c', to: 'a' }]);
  });
  it('--bidir: one test for a→b and b→a', () => {
    assert.deepEqual(testsFor({ pairs: [ab, ba, ac], test: { ...tcp, bidir: true } }), [ab, ac]);
  });
});

const direction = (kind: 'forward' | 'reverse', bitsPerSecond: number) => ({
  direction: kind,
  bitsPerSecond,
  sentBitsPerSecond: bitsPerSecond + 1,
  bytesSent: 1000,
  bytesReceived: 990,
  retransmits: 3,
  rttMs: kind === 'forward' ? 0.3 : undefined,
  jitterMs: undefined,
  lostPackets: undefined,
  packets: undefined,
  lostPercent: undefined,
  cpu: { sender: 50, receiver: 20 },
});

describe('toResults: a test outcome as measured directions', () => {
  const test = { ...ab, network: 'pod' as const };
  it('forward: from the client to the server', () => {
    const [only, ...rest] = toResults(
      test,
      2,
      { test: tcp },
      { ok: true, protocol: 'tcp', results: [direction('forward', 5e9)] },
    );
    assert.deepEqual(rest, []);
    assert.deepEqual(
      [only?.from, only?.to, only?.round, only?.bitsPerSecond, only?.rttMs, only?.error],
      ['a', 'b', 2, 5e9, 0.3, null],
    );
  });
  it('--reverse (the client on b pulled from a): the data went a→b', () => {
    const results = toResults(
      { ...ba, network: 'pod' },
      1,
      { test: { ...tcp, reverse: true } },
      {
        ok: true,
        protocol: 'tcp',
        results: [direction('reverse', 4e9)],
      },
    );
    assert.deepEqual(
      results.map((r) => [r.from, r.to, r.rttMs]),
      [['a', 'b', null]],
    );
  });
  it('--bidir: both directions', () => {
    const results = toResults(
      test,
      1,
      { test: { ...tcp, bidir: true } },
      {
        ok: true,
        protocol: 'tcp',
        results: [direction('forward', 5e9), direction('reverse', 3e9)],
      },
    );
    assert.deepEqual(
      results.map((r) => [r.from, r.to, r.bitsPerSecond]),
      [
        ['a', 'b', 5e9],
        ['b', 'a', 3e9],
      ],
    );
  });
  it('a failed test is a result with the error and no numbers, for every direction it would have measured', () => {
    const failed = { ok: false as const, error: 'unable to connect to server: Connection refused' };
    assert.deepEqual(
      toResults(test, 1, { test: tcp }, failed).map((r) => [r.from, r.to, r.bitsPerSecond, r.error]),
      [['a', 'b', null, failed.error]],
    );
    assert.equal(toResults(test, 1, { test: { ...tcp, bidir: true } }, failed).length, 2);
    assert.deepEqual(
      toResults({ ...ba, network: 'pod' }, 1, { test: { ...tcp, reverse: true } }, failed).map((r) => [r.from, r.to]),
      [['a', 'b']],
    );
  });
});

describe('networkRatios', () => {
  const result = (from: string, to: string, network: 'pod' | 'host', bitsPerSecond: number | null): PairResult =>
    ({ from, to, network, bitsPerSecond }) as PairResult;
  it('pod ÷ host per direction measured on both networks', () => {
    const ratios = networkRatios([
      result('a', 'b', 'pod', 2e9),
      result('a', 'b', 'host', 8e9),
      result('b', 'a', 'pod', 6e9),
      result('b', 'a', 'host', null),
      result('a', 'c', 'pod', 1e9),
    ]);
    assert.deepEqual(ratios, [{ from: 'a', to: 'b', podBitsPerSecond: 2e9, hostBitsPerSecond: 8e9, ratio: 0.25 }]);
  });
});

describe('MTU evidence', () => {
  const snapshot = (text: string) => ({ interfaces: parseNicStatistics(text), rules: [], backends: [], qdiscs: [] });
  it('interfaces both nodes have, loopback aside, whose MTUs differ', () => {
    const worker1 = snapshot(
      '/sys/class/net/eth0/mtu:1500\n/sys/class/net/cni0/mtu:1500\n/sys/class/net/lo/mtu:65536\n/sys/class/net/veth1/mtu:1500\n',
    );
    const worker2 = snapshot(
      '/sys/class/net/eth0/mtu:1400\n/sys/class/net/cni0/mtu:1500\n/sys/class/net/lo/mtu:1500\n/sys/class/net/veth9/mtu:1400\n',
    );
    assert.deepEqual(mtuMismatches(worker1, worker2), [{ name: 'eth0', fromMtu: 1500, toMtu: 1400 }]);
    assert.deepEqual(mtuMismatches(worker1, undefined), []);
  });
  it('the MTU of the interface the route uses', () => {
    const output = [
      '10.233.65.4 via 172.30.77.12 dev eth0 src 172.30.77.11 uid 0 \\    cache ',
      '/sys/class/net/cni0/mtu:1500',
      '/sys/class/net/eth0/mtu:1400',
      '/sys/class/net/lo/mtu:65536',
    ].join('\n');
    assert.equal(routeMtu(output), 1400);
    assert.equal(routeMtu('RTNETLINK answers: Network is unreachable\n/sys/class/net/eth0/mtu:1500'), undefined);
  });
});

describe('withReceiveBufferErrors', () => {
  const udp = pairResult(W1, W2, 990e6, { protocol: 'udp', lostPackets: 40 });
  it("the receiver's growth of RcvbufErrors during the test", () =>
    assert.equal(
      withReceiveBufferErrors(
        udp,
        new Map([
          [W1, 5],
          [W2, 100],
        ]),
        new Map([
          [W1, 900],
          [W2, 140],
        ]),
      ).receiveBufferErrors,
      40,
    ));
  it('unchanged when a read is missing', () =>
    assert.equal(withReceiveBufferErrors(udp, undefined, new Map([[W2, 140]])).receiveBufferErrors, null));
});
