/**
 * The three capture modes. Each is a {@link Sniffer}: setup creates or reuses what it needs, start runs the bounded
 * remote tcpdump through {@link runRemoteCapture}, cleanup undoes what the run session does not.
 */
import { Readable, Writable } from 'node:stream';
import { environmentError } from '../lib/errors.js';
import type { Progress } from '../lib/progress.js';
import type { KubeClient } from '../kube/client.js';
import { ensureEphemeralContainer } from '../kube/ephemeral.js';
import { execCapture, execInPod } from '../kube/exec.js';
import type { Fleet, FleetMember, Fleets } from '../kube/fleet.js';
import type { RunSession } from '../kube/session.js';
import { archFromUname, loadTcpdumpAsset, tcpdumpDigests, type TcpdumpArch } from './asset.js';
import { rememberUpload } from './kept-uploads.js';
import { formatDuration } from '../lib/duration.js';
import { runRemoteCapture, type CaptureControl, type RemoteCaptureResult, type Sniffer } from './capture.js';
import type { EphemeralPrivileges } from './mode.js';
import { excludeApiLeg, runtimeStreamArgv, type SelfStream } from './self.js';
import type { CaptureTarget, NodeCaptureTarget, PodCaptureTarget } from './resolve.js';
import { targetLabel } from './resolve.js';
import {
  boundedCaptureArgv,
  IDLE_GRACE_SECONDS,
  idleArgv,
  nsenterArgv,
  tcpdumpArgv,
  type TcpdumpSpec,
  uploadArgv,
  UPLOAD_DIR_NAME,
  UPLOAD_KEEP_SECONDS,
  UPLOAD_START_WINDOW_SECONDS,
} from './tcpdump.js';

/** The fix of a capture container or helper pod that did not run in time. */
const POD_RUNNING_TIMEOUT_FIX = 'raise --pod-running-timeout';

/** What every mode needs from the run. */
export interface SnifferContext {
  readonly client: KubeClient;
  readonly session: RunSession;
  readonly progress: Progress;
  /** Node mode's helper pods (in the helper namespace, with the helper image). */
  readonly fleets: Fleets;
  readonly tcpdump: TcpdumpSpec;
  /** Hard bound of the remote capture in seconds. */
  readonly limitSeconds: number;
  readonly podRunningTimeoutMs: number;
  /** Image of the ephemeral capture container (needs sh, tcpdump, date, sleep). */
  readonly tcpdumpImage: string;
  /** The capture's own stream, left out of host-network captures; undefined with --include-self. */
  readonly selfStream: SelfStream | undefined;
  /** Where this client notes the tcpdumps upload mode keeps in containers (for `cleanup`), and its context. */
  readonly keptUploads: { readonly file: string; readonly context: string };
}

/** Whether a capture of `target` runs in its node's network namespace, where it sees its own stream. */
export const inHostNetwork = (target: CaptureTarget): boolean => target.kind === 'node' || target.hostNetwork;

/** The tcpdump spec for `target`: the run's, with the API leg of the capture's own stream left out on the host. */
function tcpdumpSpecFor(target: CaptureTarget, ctx: SnifferContext): TcpdumpSpec {
  return ctx.selfStream && inHostNetwork(target)
    ? excludeApiLeg(ctx.tcpdump, ctx.selfStream, target.nodeName)
    : ctx.tcpdump;
}

/** Lease/heartbeat directory inside netdiag's own containers. */
const STATE_DIR = '/tmp/netdiag';

/** Ephemeral container names say which privileges they were created with, so reuse never picks the wrong kind. */
export const ephemeralNamePrefix = (privileges: EphemeralPrivileges): string =>
  privileges === 'net-raw-net-admin' ? 'netdiag-sniff-raw-' : 'netdiag-sniff-dflt-';

/**
 * Mode 1: an ephemeral container in the target pod (same network namespace) running a bounded idle process; tcpdump
 * is exec'd in it. It has its own PID namespace (no targetContainerName), so when its idle process ends, every
 * capture in it ends too.
 */
export class EphemeralCapture implements Sniffer {
  private container: string | undefined;

  constructor(
    readonly target: PodCaptureTarget,
    private readonly privileges: EphemeralPrivileges,
    private readonly ctx: SnifferContext,
  ) {}

  get where(): string {
    return `ephemeral container ${this.container ?? '(new)'} in ${this.target.namespace}/${this.target.pod}`;
  }

  async setup(signal: AbortSignal): Promise<void> {
    const prefix = ephemeralNamePrefix(this.privileges);
    const handle = await ensureEphemeralContainer(
      this.ctx.client,
      {
        namespace: this.target.namespace,
        pod: this.target.pod,
        known: this.target.spec,
        image: this.ctx.tcpdumpImage,
        command: idleArgv(STATE_DIR, IDLE_GRACE_SECONDS),
        namePrefix: prefix,
        capabilities: this.privileges === 'net-raw-net-admin' ? ['NET_RAW', 'NET_ADMIN'] : [],
        readyProbe: ['sh', '-c', ':'],
        reuse: (candidate) =>
          candidate.name.startsWith(prefix) &&
          candidate.image === this.ctx.tcpdumpImage &&
          !candidate.targetContainerName,
      },
      {
        timeoutMs: this.ctx.podRunningTimeoutMs,
        signal,
        onDetail: (detail) =>
          this.ctx.progress.debug(`${this.target.namespace}/${this.target.pod}: ephemeral container ${detail}`),
        timeoutFix: POD_RUNNING_TIMEOUT_FIX,
        // Upload mode needs no image at all: it carries its own tcpdump (air-gapped clusters, private registries).
        imageFix:
          'pass --tcpdump-image with an image the nodes can pull (NETDIAG_REGISTRY for a mirror), or use --mode upload, which needs no image',
      },
    );
    this.container = handle.name;
    this.ctx.progress.info(
      `${handle.reused ? 'reusing' : 'added'} ephemeral container ${handle.name} in ${this.target.namespace}/${this.target.pod}`,
    );
  }

  start(sink: Writable, control: CaptureControl): Promise<RemoteCaptureResult> {
    const command = boundedCaptureArgv(
      'sh',
      { limitSeconds: this.ctx.limitSeconds, stateDir: STATE_DIR },
      tcpdumpArgv('tcpdump', tcpdumpSpecFor(this.target, this.ctx)),
    );
    return runRemoteCapture(
      this.ctx.client,
      { namespace: this.target.namespace, pod: this.target.pod, container: this.requireContainer(), command },
      sink,
      control,
    );
  }

  /** Ephemeral containers cannot be removed; the idle process ends by itself IDLE_GRACE_SECONDS after the last capture. */
  async cleanup(): Promise<void> {}

  private requireContainer(): string {
    if (this.container === undefined) throw new Error('EphemeralCapture.start before setup');
    return this.container;
  }
}

/**
 * Mode 2: the privileged helper pod on the target's node (the sniff-node fleet, one pod per node shared by every
 * target there) runs tcpdump inside the target's network namespace, or in the node's for node targets.
 */
export class NodeCapture implements Sniffer {
  private helper: FleetMember | undefined;

  constructor(
    readonly target: CaptureTarget,
    /** The fleet of every node-mode target's node, started on first use. */
    private readonly helpers: () => Promise<Fleet>,
    private readonly ctx: SnifferContext,
  ) {}

  get where(): string {
    return `helper pod ${this.helper ? `${this.helper.namespace}/${this.helper.pod}` : '(new)'} on ${this.target.nodeName}`;
  }

  async setup(): Promise<void> {
    if (this.target.kind === 'pod' && this.target.containerId === undefined) {
      throw environmentError(
        `container ${targetLabel(this.target)} has no container ID in its status`,
        'wait until it runs, or use --mode ephemeral',
      );
    }
    const fleet = await this.helpers();
    const member = fleet.member(this.target.nodeName);
    if (!member) {
      const why = fleet.unavailable.find((entry) => entry.node === this.target.nodeName)?.reason ?? 'no helper pod';
      throw environmentError(
        `the node-mode helper pod on ${this.target.nodeName} cannot run: ${why}`,
        `pass --image with an image the nodes can pull (NETDIAG_REGISTRY for a mirror), or ${POD_RUNNING_TIMEOUT_FIX}`,
      );
    }
    this.helper = member;
    this.ctx.progress.info(`helper pod ${member.namespace}/${member.pod} runs on ${this.target.nodeName}`);
  }

  start(sink: Writable, control: CaptureControl): Promise<RemoteCaptureResult> {
    if (this.helper === undefined) throw new Error('NodeCapture.start before setup');
    const spec = tcpdumpSpecFor(this.target, this.ctx);
    let inNamespace: string[];
    if (!inHostNetwork(this.target)) {
      inNamespace = nsenterArgv((this.target as PodCaptureTarget).containerId ?? '', tcpdumpArgv('tcpdump', spec));
    } else if (this.ctx.selfStream) {
      // The loopback leg's port is only known on the node: the helper (hostPID) finds it and adds it to the filter.
      inNamespace = runtimeStreamArgv(spec.filter, tcpdumpArgv('tcpdump', { ...spec, filter: undefined }));
    } else {
      inNamespace = tcpdumpArgv('tcpdump', spec);
    }
    const command = boundedCaptureArgv('sh', { limitSeconds: this.ctx.limitSeconds, stateDir: STATE_DIR }, inNamespace);
    return runRemoteCapture(
      this.ctx.client,
      { namespace: this.helper.namespace, pod: this.helper.pod, container: 'tools', command },
      sink,
      control,
    );
  }

  /** The helper pod is the run session's to delete. */
  async cleanup(): Promise<void> {}
}

/** What upload mode learned about the target container. */
export interface UploadCheck {
  readonly arch: TcpdumpArch | undefined;
  readonly machine: string;
  readonly hasTar: boolean;
  readonly writableDir: string | undefined;
  readonly uid: number | undefined;
  /** CAP_NET_RAW in the effective set. */
  readonly netRaw: boolean;
  readonly hasTools: boolean;
  /** The container holds a tcpdump uploaded earlier with the right checksum (and the probe extended its lease). */
  readonly cached: boolean;
}

/**
 * Probes the target container: prints `machine=`, `tar=`, `dir=`, `uid=`, `capeff=`, `tools=` lines, and `cached=yes`
 * when the first writable directory holds a tcpdump uploaded earlier whose watchdog still runs and whose SHA-256 is
 * $1 (amd64) or $2 (arm64), for this machine; reusing it, the probe extends its lease by $3 seconds so the watchdog
 * cannot remove it before the capture starts. Constant script; its arguments are hex digests and a number.
 */
export const UPLOAD_PROBE_SCRIPT = [
  'm=$(uname -m 2>/dev/null); echo "machine=$m"',
  'command -v tar >/dev/null 2>&1 && echo tar=yes || echo tar=no',
  'for d in /tmp /var/tmp /dev/shm "$HOME"; do',
  '  [ -n "$d" ] && [ -d "$d" ] && [ -w "$d" ] && { echo "dir=$d"; break; }',
  'done',
  'echo "uid=$(id -u 2>/dev/null)"',
  'echo "capeff=$(grep CapEff /proc/self/status 2>/dev/null | cut -f2)"',
  `c="\${d%/}/${UPLOAD_DIR_NAME}"; case $m in aarch64|arm64|armv8l) want=$2 ;; *) want=$1 ;; esac`,
  'if [ -n "$want" ] && [ -x "$c/tcpdump" ] && kill -0 "$(cat "$c/watchdog.pid" 2>/dev/null)" 2>/dev/null &&',
  '  [ "$(sha256sum "$c/tcpdump" 2>/dev/null | cut -d" " -f1)" = "$want" ]; then',
  '  echo $(( $(date +%s) + $3 )) > "$c/.reuse" && mv -f "$c/.reuse" "$c/capture.reuse" && echo cached=yes',
  'fi',
  'for t in date sleep cat kill mv; do command -v $t >/dev/null 2>&1 || { echo tools=no; exit 0; }; done; echo tools=yes',
].join('\n');

/** Parses the probe's output. Pure. */
export function parseUploadProbe(output: string): UploadCheck {
  const values = new Map<string, string>();
  for (const line of output.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const machine = values.get('machine') ?? '';
  const uidText = values.get('uid');
  const capeff = values.get('capeff');
  // CAP_NET_RAW is capability 13.
  const netRaw =
    capeff !== undefined && capeff !== '' && /^[0-9a-f]+$/i.test(capeff)
      ? (BigInt(`0x${capeff}`) & (1n << 13n)) !== 0n
      : false;
  return {
    arch: archFromUname(machine),
    machine,
    hasTar: values.get('tar') === 'yes',
    writableDir: values.get('dir') || undefined,
    uid: uidText !== undefined && /^\d+$/.test(uidText) ? Number(uidText) : undefined,
    netRaw,
    hasTools: values.get('tools') === 'yes',
    cached: values.get('cached') === 'yes',
  };
}

/** Everything that stops upload mode from working in this container, as sentences. Pure. */
export function uploadProblems(check: UploadCheck): string[] {
  const problems: string[] = [];
  if (check.arch === undefined)
    problems.push(`architecture "${check.machine || 'unknown'}" has no static tcpdump (amd64 and arm64 do)`);
  if (!check.hasTar) problems.push('no tar in the container');
  if (check.writableDir === undefined) problems.push('no writable directory (/tmp, /var/tmp, /dev/shm, $HOME)');
  if (!check.netRaw) problems.push(`the container cannot open raw sockets (uid ${check.uid ?? '?'}, no CAP_NET_RAW)`);
  if (!check.hasTools) problems.push('date, sleep, cat, kill or mv is missing (needed to bound the capture)');
  return problems;
}

/**
 * Mode 3: for clusters without ephemeral containers: a static tcpdump is streamed into the target container with
 * tar over exec, run there, and removed at the end.
 */
export class UploadCapture implements Sniffer {
  private dir: string | undefined;

  constructor(
    readonly target: PodCaptureTarget,
    private readonly ctx: SnifferContext,
  ) {}

  get where(): string {
    return `container ${targetLabel(this.target)} (uploaded tcpdump in ${this.dir ?? '?'})`;
  }

  private exec(command: readonly string[], signal: AbortSignal) {
    return execCapture(this.ctx.client, {
      namespace: this.target.namespace,
      pod: this.target.pod,
      container: this.target.container,
      command,
      signal,
    });
  }

  async setup(signal: AbortSignal): Promise<void> {
    const label = targetLabel(this.target);
    const digests = await tcpdumpDigests();
    let probe;
    try {
      probe = await this.exec(
        [
          'sh',
          '-c',
          UPLOAD_PROBE_SCRIPT,
          'netdiag-probe',
          digests.amd64,
          digests.arm64,
          String(UPLOAD_START_WINDOW_SECONDS),
        ],
        signal,
      );
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw environmentError(
        `upload mode cannot run a shell in ${label}: ${(err as Error).message}`,
        'the container needs /bin/sh and tar; use --mode ephemeral or --mode node',
      );
    }
    const check = parseUploadProbe(probe.stdout.toString('utf8'));
    const problems = uploadProblems(check);
    if (problems.length > 0 || check.arch === undefined || check.writableDir === undefined) {
      throw environmentError(
        `upload mode cannot capture in ${label}: ${problems.join('; ')}`,
        'use --mode ephemeral or --mode node',
      );
    }
    const dir = `${check.writableDir.replace(/\/$/, '')}/${UPLOAD_DIR_NAME}`;
    this.dir = dir;
    if (check.cached) {
      this.ctx.progress.info(`reusing the static tcpdump uploaded earlier to ${label}:${dir} (same SHA-256)`);
      await this.noteKept(dir);
      return;
    }
    // tar-stream is loaded only here: every other capture (and every cached upload) starts without it.
    const [binary, { pack }] = await Promise.all([loadTcpdumpAsset(check.arch), import('tar-stream')]);
    const archive = pack();
    archive.entry({ name: 'tcpdump', mode: 0o755, size: binary.length, mtime: new Date(0) }, binary);
    archive.finalize();
    const stderr: Buffer[] = [];
    const upload = await execInPod(this.ctx.client, {
      namespace: this.target.namespace,
      pod: this.target.pod,
      container: this.target.container,
      command: uploadArgv(dir),
      // tar-stream's pack is a streamx stream; Readable.from adapts it (it is async-iterable).
      stdin: Readable.from(archive),
      stderr: new Writable({ write: (chunk: Buffer, _e, cb) => (stderr.push(chunk), cb()) }),
      signal,
    });
    if (upload.exitCode !== 0) {
      const message = Buffer.concat(stderr).toString('utf8').trim();
      throw environmentError(
        upload.exitCode === 2
          ? `the uploaded tcpdump does not run in ${label}: ${message}`
          : `uploading tcpdump to ${label} failed: ${message || `tar exited ${upload.exitCode}`}`,
        'use --mode ephemeral or --mode node',
      );
    }
    await this.noteKept(dir);
    this.ctx.progress.info(
      `uploaded static tcpdump (linux/${check.arch}, ${binary.length} bytes) to ${label}:${dir}; kept ${formatDuration(UPLOAD_KEEP_SECONDS * 1000)} after the capture for the next one (\`kubectl netdiag cleanup\` removes it)`,
    );
  }

  start(sink: Writable, control: CaptureControl): Promise<RemoteCaptureResult> {
    if (this.dir === undefined) throw new Error('UploadCapture.start before setup');
    const command = boundedCaptureArgv(
      'sh',
      // The upload's watchdog removes the directory once this lease has run out (src/sniff/tcpdump.ts).
      { limitSeconds: this.ctx.limitSeconds, stateDir: this.dir, idleGraceSeconds: UPLOAD_KEEP_SECONDS },
      tcpdumpArgv(`${this.dir}/tcpdump`, tcpdumpSpecFor(this.target, this.ctx)),
    );
    return runRemoteCapture(
      this.ctx.client,
      { namespace: this.target.namespace, pod: this.target.pod, container: this.target.container, command },
      sink,
      control,
    );
  }

  /** The upload stays for the next capture; its watchdog bounds it, and `cleanup` knows it from {@link noteKept}. */
  async cleanup(): Promise<void> {}

  /** Notes the upload for `cleanup` as soon as it exists, so a client killed mid-capture has noted it too. */
  private async noteKept(dir: string): Promise<void> {
    const { file, context } = this.ctx.keptUploads;
    await rememberUpload(file, {
      context,
      namespace: this.target.namespace,
      pod: this.target.pod,
      container: this.target.container,
      dir,
      // The latest its watchdog removes it: the capture's bound, then the keep period.
      keptUntil: new Date(Date.now() + (this.ctx.limitSeconds + UPLOAD_KEEP_SECONDS + 60) * 1000).toISOString(),
    }).catch((err: unknown) =>
      this.ctx.progress.debug(`could not note the kept upload in ${file}: ${(err as Error).message}`),
    );
  }
}

export type { NodeCaptureTarget };
