import * as Flags from '@oclif/core/flags';
import { NetdiagCommand } from '../cli/command.js';
import { diagnosticFlags } from '../cli/flags.js';
import { runBw } from '../bw/engine.js';
import { BW_FLAG_DEFAULTS, bwOptions, NETWORK_CHOICES, PROTOCOL_CHOICES } from '../bw/options.js';
import { BW_VIEW } from '../bw/render.js';

const TEST = 'TEST';
const PAIRS = 'PAIRS';

export default class Bw extends NetdiagCommand {
  static override summary = 'Measure the bandwidth between every pair of nodes with iperf3, and say why a link is bad.';
  static override description =
    'Runs one iperf3 server per node (pod network, host network or both) and measures every ordered pair of the ' +
    'selected nodes in rounds in which no node takes part twice: the fewest rounds possible. Prints the matrix in ' +
    'Gbit/s (rows: from, columns: to), then findings: pairs far below what the cluster’s links reach, TCP ' +
    'retransmits, UDP loss, pod network much slower than host network, CPU-bound tests. For each bad link it names ' +
    'the likeliest cause (NIC errors, a firewall rule that dropped packets, an MTU problem, a qdisc that holds the ' +
    'link to a rate) from the nodes’ counters ' +
    'read before and after its test and a don’t-fragment ping. Exit 1 when a link is bad; Ctrl-C prints the ' +
    'finished pairs and exits 130.';
  static override examples = [
    '<%= config.bin %> bw',
    '<%= config.bin %> bw --network both --time 5s',
    '<%= config.bin %> bw --from worker1 -o wide',
    '<%= config.bin %> bw --pairs worker1:worker2,worker3:worker1 --parallel 4',
    '<%= config.bin %> bw --protocol udp --bitrate 500M',
    '<%= config.bin %> bw --min-rate 9G',
  ];
  static override flags = {
    ...diagnosticFlags,
    from: Flags.string({
      description: 'Only pairs sending from this node (one to all).',
      exclusive: ['pairs'],
      helpGroup: PAIRS,
    }),
    to: Flags.string({
      description: 'Only pairs sending to this node (all to one).',
      exclusive: ['pairs'],
      helpGroup: PAIRS,
    }),
    pairs: Flags.string({
      description: 'Only these ordered pairs: FROM:TO[,FROM:TO...].',
      helpGroup: PAIRS,
    }),
    serial: Flags.boolean({
      description: 'One test at a time in the whole cluster (default: parallel rounds).',
      helpGroup: PAIRS,
    }),
    network: Flags.string({
      description: 'pod: pod to pod; host: node to node (hostNetwork); both: each pair on both, with pod ÷ host.',
      options: [...NETWORK_CHOICES],
      default: BW_FLAG_DEFAULTS.network,
      helpGroup: TEST,
    }),
    protocol: Flags.string({
      description: 'iperf3 protocol.',
      options: [...PROTOCOL_CHOICES],
      default: BW_FLAG_DEFAULTS.protocol,
      helpGroup: TEST,
    }),
    parallel: Flags.integer({
      char: 'P',
      description: 'Parallel streams per test (iperf3 -P).',
      default: BW_FLAG_DEFAULTS.parallel,
      helpGroup: TEST,
    }),
    time: Flags.string({
      char: 't',
      description: 'Seconds measured per test, e.g. 10s.',
      default: BW_FLAG_DEFAULTS.time,
      helpGroup: TEST,
    }),
    omit: Flags.string({
      description: 'Seconds of TCP slow start not counted, before --time (iperf3 -O).',
      default: BW_FLAG_DEFAULTS.omit,
      helpGroup: TEST,
    }),
    reverse: Flags.boolean({
      char: 'R',
      description: 'The receiving node runs the client and pulls (iperf3 -R): the sender accepts the connection.',
      helpGroup: TEST,
    }),
    bidir: Flags.boolean({ description: 'Both directions of a pair in one test (iperf3 --bidir).', helpGroup: TEST }),
    bitrate: Flags.string({
      char: 'b',
      description:
        'Target bits/s per stream, e.g. 500M, 2G (iperf3 -b). UDP default: 1G (iperf3’s own 1 Mbit/s measures nothing); TCP default: unlimited.',
      helpGroup: TEST,
    }),
    length: Flags.string({ char: 'l', description: 'Bytes per write, e.g. 128K (iperf3 -l).', helpGroup: TEST }),
    'min-rate': Flags.string({
      description:
        'The rate every pair must reach, e.g. 9G: a pair below it fails (bw.pair.below-min) with its likeliest cause. Outliers are judged against the other pairs, so a slowdown all pairs share needs this.',
      helpGroup: TEST,
    }),
    port: Flags.integer({
      char: 'p',
      description: 'iperf3 server port.',
      default: BW_FLAG_DEFAULTS.port,
      helpGroup: TEST,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parseFlags(Bw);
    const result = await this.diagnose(
      flags,
      (ctx) =>
        runBw(
          ctx,
          bwOptions(
            flags,
            ctx.nodes.map((node) => node.name),
          ),
        ),
      BW_VIEW,
    );
    // The finished pairs are printed; the run still ends as interrupted.
    if (result.data.interrupted) throw this.abort.signal.reason;
  }
}
