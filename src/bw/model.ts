/**
 * bw's typed options (what the command's flags become) and its data (the `-o json` contract, docs/schema/bw.schema.json).
 */
import type { IperfTest, Protocol } from './iperf.js';
import type { Pair } from './schedule.js';

export type Network = 'pod' | 'host';

export interface BwOptions {
  /** The selected nodes (resolved and validated by the command); the matrix's rows and columns. */
  readonly nodes: readonly string[];
  /** The ordered pairs to measure (from = the sender), validated: distinct, no self-pairs, nodes among `nodes`. */
  readonly pairs: readonly Pair[];
  readonly networks: readonly Network[];
  readonly test: IperfTest;
  /** One test at a time in the whole cluster. */
  readonly serial: boolean;
  /** The rate every pair must reach (`--min-rate`), bits/s; undefined: only outliers among the pairs are bad. */
  readonly minBitsPerSecond: number | undefined;
}

/** One measured direction between two nodes on one network. */
export interface PairResult {
  /** The sending node (iperf3's client unless --reverse). */
  readonly from: string;
  /** The receiving node. */
  readonly to: string;
  readonly network: Network;
  readonly protocol: Protocol;
  /** 1-based round of the network's schedule. */
  readonly round: number;
  /** What arrived, bits/s; null when the test failed. */
  readonly bitsPerSecond: number | null;
  readonly sentBitsPerSecond: number | null;
  readonly bytesSent: number | null;
  /** TCP retransmits counted by the sender. */
  readonly retransmits: number | null;
  /** Mean RTT of the streams in ms (TCP, only where the client sends: null with --reverse). */
  readonly rttMs: number | null;
  /** UDP. */
  readonly jitterMs: number | null;
  readonly lostPackets: number | null;
  readonly lostPercent: number | null;
  /**
   * UDP: datagrams the receiving network namespace dropped during the test because the socket buffer was full
   * (`Udp: RcvbufErrors` of /proc/net/snmp grew by this); null when not UDP or not read.
   */
  readonly receiveBufferErrors: number | null;
  /** CPU of the iperf3 processes, % of one CPU, at the sending and the receiving end. */
  readonly cpu: { readonly sender: number; readonly receiver: number } | null;
  /** Why the test failed (iperf3's error, or the exec's). */
  readonly error: string | null;
}

/** Pod network ÷ host network for one direction (`--network both`). */
export interface NetworkRatio {
  readonly from: string;
  readonly to: string;
  readonly podBitsPerSecond: number;
  readonly hostBitsPerSecond: number;
  readonly ratio: number;
}

export interface BwData {
  readonly nodes: readonly string[];
  readonly networks: readonly Network[];
  readonly test: IperfTest;
  readonly serial: boolean;
  /** `--min-rate` in bits/s; null when not given. */
  readonly minBitsPerSecond: number | null;
  /** Rounds per network as scheduled, and the fewest possible. */
  readonly schedule: readonly {
    readonly network: Network;
    readonly rounds: number;
    readonly lowerBound: number;
    readonly optimal: boolean;
  }[];
  readonly results: readonly PairResult[];
  readonly ratios: readonly NetworkRatio[];
  /** Wall time of the measuring (from the first round's start to the last round's end), ms. */
  readonly wallTimeMs: number;
  /** True when the run was stopped: `results` holds the finished pairs only. */
  readonly interrupted: boolean;
}
