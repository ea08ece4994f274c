/** bw's finding ids: the contract doctor's correlation rules read (docs/nd-team catalogue). Stable; never rename. */
export const BW_IDS = {
  /** One per measured pair and network: pass with the numbers, fail when the test could not run. */
  pair: 'bw.pair',
  /** Far below what the cluster's links typically reach. */
  outlier: 'bw.pair.outlier',
  /** Below the rate the user said every link must reach (`--min-rate`): catches a slowdown every pair shares. */
  belowMin: 'bw.pair.below-min',
  retransmits: 'bw.pair.retransmits',
  udpLoss: 'bw.pair.udp-loss',
  /** Pod network much slower than the host network between the same nodes. */
  overlayOverhead: 'bw.pair.overlay-overhead',
  /** An iperf3 process used (nearly) a whole CPU: the number measures the CPU, not the network. */
  cpuBound: 'bw.pair.cpu-bound',
} as const;

/**
 * The seed's three causes of a bad link, and none found: `metrics.cause` of every flagged pair; `receiver-buffer`
 * for UDP loss the receiving host itself dropped (its socket buffer overflowed), not the network; `shaper` for a
 * qdisc that limits an interface to the rate the pair measured.
 */
export const BW_CAUSES = ['receiver-buffer', 'nic-errors', 'firewall', 'mtu', 'shaper', 'none'] as const;
export type BwCause = (typeof BW_CAUSES)[number];
