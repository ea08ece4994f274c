/** Test data the bw unit tests share: the lab's node names, a default test, a measured pair, a run. */
import type { IperfTest } from '../../../src/bw/iperf.js';
import type { BwData, NetworkRatio, PairResult } from '../../../src/bw/model.js';

export const W1 = 'worker1.kube.local';
export const W2 = 'worker2.kube.local';
export const W3 = 'worker3.kube.local';

/** What `kubectl netdiag bw` measures without flags. */
export const DEFAULT_TEST: IperfTest = {
  protocol: 'tcp',
  parallel: 1,
  timeSeconds: 10,
  omitSeconds: 1,
  reverse: false,
  bidir: false,
  bitrate: undefined,
  length: undefined,
  port: 5201,
};

/** A TCP pod-network result of a 10 s test at `bitsPerSecond` (null: the test failed). */
export function pairResult(
  from: string,
  to: string,
  bitsPerSecond: number | null,
  extra: Partial<PairResult> = {},
): PairResult {
  const measured = bitsPerSecond !== null;
  return {
    from,
    to,
    network: 'pod',
    protocol: 'tcp',
    round: 1,
    bitsPerSecond,
    sentBitsPerSecond: bitsPerSecond,
    bytesSent: measured ? (bitsPerSecond * 10) / 8 : null,
    retransmits: measured ? 0 : null,
    rttMs: measured ? 0.2 : null,
    jitterMs: null,
    lostPackets: null,
    lostPercent: null,
    receiveBufferErrors: null,
    cpu: measured ? { sender: 40, receiver: 30 } : null,
    error: null,
    ...extra,
  };
}

/** A run of the three lab workers with these results. */
export function bwData(results: PairResult[], extra: Partial<BwData> = {}, ratios: NetworkRatio[] = []): BwData {
  return {
    nodes: [W1, W2, W3],
    networks: [...new Set(results.map((entry) => entry.network))],
    test: DEFAULT_TEST,
    serial: false,
    minBitsPerSecond: null,
    schedule: [],
    results,
    ratios,
    wallTimeMs: 60_000,
    interrupted: false,
    ...extra,
  };
}
