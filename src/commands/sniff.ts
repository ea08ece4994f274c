import { accessSync, constants, fstatSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { resolveToolsImage, loadFileConfig, configFilePath } from '../lib/config.js';
import { NetdiagCommand } from '../cli/command.js';
import { usageError } from '../lib/errors.js';
import { InterruptedError } from '../lib/signals.js';
import { runSniff, type SniffOptions } from '../sniff/engine.js';
import { keptUploadsFile } from '../sniff/kept-uploads.js';
import type { RequestedMode } from '../sniff/mode.js';
import { immediateByDefault, openOutput, type OutputSpec, type StdoutKind } from '../sniff/outputs.js';
import { LiveStats, statsLines, summaryLines } from '../sniff/render.js';
import { describeTarget, parseTarget } from '../sniff/target.js';
import { parsePositiveDuration, parsePositiveInt, parseSize } from '../lib/units.js';
import { findViewer, type ViewerKind } from '../sniff/viewer.js';

const MAX_SNAPLEN = 262_144;

export default class Sniff extends NetdiagCommand {
  static override summary =
    'Capture packets of pods, workloads, Services or nodes with tcpdump (pcap/pcapng, live Wireshark/tshark).';
  static override description =
    'TARGET is a pod name, pod/NAME, deploy/NAME, sts/NAME, ds/NAME, svc/NAME (its endpoint pods) or node/NAME; or use -l SELECTOR.\n' +
    'One target gives the classic pcap tcpdump writes; several give one pcapng merged in time order with one interface per pod.\n' +
    'Modes: ephemeral (default: an ephemeral container in the pod), node (-p: a privileged helper pod on the node), ' +
    'upload (a static tcpdump copied into the container). --mode auto picks the first that preflight says will work.\n' +
    'Arguments after `--` go to tshark/Wireshark. Ctrl-C stops the capture and leaves a valid file (exit 0).';
  static override examples = [
    '<%= config.bin %> sniff web-7d9f-abcde -f "port 53" -o dns.pcap --duration 10s',
    '<%= config.bin %> sniff deploy/web -o web.pcapng',
    '<%= config.bin %> sniff web-7d9f-abcde -o - | tshark -r -',
    '<%= config.bin %> sniff svc/kube-dns -n kube-system --tshark -- -Y dns',
    '<%= config.bin %> sniff node/worker2.kube.local -f "not port 22" -o node.pcap --duration 30s',
    '<%= config.bin %> sniff -l app=web -A --wireshark',
  ];
  static override strict = false;
  static override args = {
    target: Args.string({
      description: 'pod, pod/NAME, deploy/NAME, sts/NAME, ds/NAME, svc/NAME or node/NAME',
      required: false,
    }),
  };
  static override flags = {
    selector: Flags.string({ char: 'l', description: 'Capture every running pod matching this label selector.' }),
    'all-namespaces': Flags.boolean({ char: 'A', description: 'With -l: pods in every namespace.' }),
    container: Flags.string({ char: 'c', description: 'Container (default: the first container of the pod).' }),
    interface: Flags.string({ char: 'i', description: 'Interface to capture on.', default: 'any' }),
    filter: Flags.string({
      char: 'f',
      description: 'BPF capture filter, e.g. "port 53" (passed to tcpdump as one argument).',
    }),
    output: Flags.string({ char: 'o', description: 'Write the capture to FILE; "-" for stdout.' }),
    wireshark: Flags.boolean({ description: 'Show the capture live in Wireshark.' }),
    tshark: Flags.boolean({ description: 'Show the capture live in tshark (arguments after -- go to tshark).' }),
    privileged: Flags.boolean({ char: 'p', description: 'Node-side capture (same as --mode node).' }),
    mode: Flags.string({
      description:
        'Capture mode. auto: the first of ephemeral, node, upload that preflight says will work, and the next one when admission refuses it.',
      options: ['auto', 'ephemeral', 'node', 'upload'],
      default: 'auto',
    }),
    image: Flags.string({ description: 'Image of the node-mode helper pod (default: the tools image).' }),
    'tcpdump-image': Flags.string({
      description: 'Image of the ephemeral capture container (default: the tools image).',
    }),
    'helper-namespace': Flags.string({
      description:
        'Namespace for node-mode helper pods (default: the target\'s if it allows privileged pods, else "default").',
    }),
    snaplen: Flags.integer({ description: 'Bytes captured per packet (tcpdump -s; default 262144).' }),
    duration: Flags.string({ description: 'Stop after this long, e.g. 10s, 5m.' }),
    count: Flags.integer({ description: 'Stop after this many packets (per target; tcpdump -c).' }),
    'max-size': Flags.string({ description: 'Stop before the output exceeds this size, e.g. 100MB, 1GiB.' }),
    'pod-running-timeout': Flags.string({
      description: 'How long to wait for the capture container or helper pod to run.',
      default: '1m',
    }),
    stats: Flags.boolean({
      description: 'Live packet/byte/rate statistics on stderr (default: on when stderr is a terminal).',
      allowNo: true,
    }),
    immediate: Flags.boolean({
      description:
        'tcpdump --immediate-mode: deliver each packet at once instead of in blocks of up to 1 s. Default: on for --wireshark/--tshark and a piped stdout, off for files.',
      allowNo: true,
    }),
    'include-self': Flags.boolean({
      description:
        "Keep the capture's own stream (runtime ↔ kubelet on loopback, kubelet ↔ API server) in node and hostNetwork captures; left out by default.",
    }),
    resolve: Flags.boolean({
      description: 'Name resolution records (pod/Service names) in pcapng output.',
      default: true,
      allowNo: true,
    }),
  };

  async run(): Promise<void> {
    // Everything after `--` belongs to the viewer, never to our parser.
    const dashDash = this.argv.indexOf('--');
    const viewerArgs = dashDash >= 0 ? this.argv.slice(dashDash + 1) : [];
    if (dashDash >= 0) this.argv = this.argv.slice(0, dashDash);
    const { flags, argv } = await this.parseFlags(Sniff);
    if (argv.length > 1)
      throw usageError(
        `one TARGET expected, got ${argv.length}: ${argv.join(' ')}`,
        'capture several pods with a workload (deploy/NAME), svc/NAME or -l SELECTOR',
      );

    const query = parseTarget(argv[0] as string | undefined, flags.selector);
    if (flags['all-namespaces'] && query.kind !== 'selector')
      throw usageError('-A only applies to -l/--selector', 'drop -A or use -l');
    if (flags.privileged && flags.mode !== 'auto' && flags.mode !== 'node')
      throw usageError(`-p conflicts with --mode ${flags.mode}`, 'use one of them');
    if (viewerArgs.length > 0 && !flags.tshark && !flags.wireshark)
      throw usageError('arguments after -- are for --tshark or --wireshark', 'add --tshark or --wireshark');
    if (flags.tshark && flags.wireshark) throw usageError('--tshark and --wireshark both given', 'pick one viewer');

    const outputs: OutputSpec[] = [];
    if (flags.output === '-') outputs.push({ kind: 'stdout' });
    else if (flags.output !== undefined) outputs.push({ kind: 'file', path: flags.output });
    const viewer: ViewerKind | undefined = flags.tshark ? 'tshark' : flags.wireshark ? 'wireshark' : undefined;
    if (viewer === undefined && outputs.length === 0) {
      if (process.stdout.isTTY)
        throw usageError(
          'no output given and stdout is a terminal',
          'write to a file with -o FILE, pipe with -o -, or watch live with --wireshark / --tshark',
        );
      outputs.push({ kind: 'stdout' });
    }
    if (viewer !== undefined) {
      if (outputs.some((o) => o.kind === 'stdout'))
        throw usageError(`-o - and --${viewer} both given`, 'pipe stdout to the viewer yourself, or drop -o -');
      const binary = findViewer(viewer, {
        platform: process.platform,
        env: process.env,
        homedir: homedir(),
        isExecutable,
      });
      outputs.push({ kind: 'viewer', viewer, binary, title: describeTarget(query), args: viewerArgs });
    }

    const client = await this.client();
    const fileConfig = loadFileConfig(configFilePath(process.env));
    const options: SniffOptions = {
      target: query,
      namespace: client.namespace,
      allNamespaces: flags['all-namespaces'],
      container: flags.container,
      tcpdump: {
        interface: flags.interface,
        filter: flags.filter,
        snaplen: flags.snaplen === undefined ? undefined : parsePositiveInt(flags.snaplen, '--snaplen', MAX_SNAPLEN),
        count: flags.count === undefined ? undefined : parsePositiveInt(flags.count, '--count'),
        immediate: flags.immediate ?? immediateByDefault(outputs, stdoutKind()),
      },
      mode: (flags.privileged ? 'node' : flags.mode) as RequestedMode,
      helperImage: resolveToolsImage(flags.image, process.env, fileConfig),
      tcpdumpImage: resolveToolsImage(flags['tcpdump-image'], process.env, fileConfig),
      helperNamespace: flags['helper-namespace'],
      durationMs: flags.duration === undefined ? undefined : parsePositiveDuration(flags.duration, 'duration'),
      maxSizeBytes: flags['max-size'] === undefined ? undefined : parseSize(flags['max-size'], '--max-size'),
      podRunningTimeoutMs: parsePositiveDuration(flags['pod-running-timeout'], 'pod-running-timeout'),
      resolveNames: flags.resolve,
      includeSelf: flags['include-self'],
      keptUploadsFile: keptUploadsFile(process.env, homedir()),
    };
    if (!/^[A-Za-z0-9_.:@-]+$/.test(options.tcpdump.interface))
      throw usageError(
        `invalid interface name "${options.tcpdump.interface}"`,
        'use an interface name such as any, eth0',
      );

    const showStats = !this.globals.quiet && (flags.stats ?? process.stderr.isTTY === true);
    const live = process.stderr.isTTY ? new LiveStats(process.stderr) : undefined;
    let lastPlain = 0;
    try {
      // The command owns the run's session: its helper pods are deleted when the command ends, however it ends.
      const result = await runSniff({ client, session: await this.newSession(), signal: this.abort.signal }, options, {
        openOutput: () => openOutput(outputs),
        progress: this.progress,
        onStats: showStats
          ? (stats) => {
              if (live) live.draw(stats);
              else if (Date.now() - lastPlain >= 5000) {
                lastPlain = Date.now();
                for (const line of statsLines(stats)) process.stderr.write(`${line}\n`);
              }
            }
          : undefined,
      });
      if (!this.globals.quiet) for (const line of summaryLines(result)) process.stderr.write(`${line}\n`);
      if (result.failure) throw result.failure;
    } catch (err) {
      // A user stop (Ctrl-C, SIGTERM) before or during the capture is a normal end.
      if (err instanceof InterruptedError || this.abort.signal.reason === err) {
        if (!this.globals.quiet)
          process.stderr.write(
            `stopped by ${err instanceof InterruptedError ? err.signalName : 'signal'} before the capture started; nothing was captured\n`,
          );
        return;
      }
      throw err;
    }
  }
}

function stdoutKind(): StdoutKind {
  if (process.stdout.isTTY) return 'terminal';
  try {
    return fstatSync(1).isFile() ? 'file' : 'pipe';
  } catch {
    return 'pipe';
  }
}

function isExecutable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    if (process.platform !== 'win32') accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
