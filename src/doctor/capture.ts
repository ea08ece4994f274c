/**
 * `doctor --capture-failures`: for each diagnosed broken path, the probe is sent again while the sniff engine
 * captures at both ends — the run's own probe pods, whose traffic is the probe's — into one pcapng with names. The
 * counts answer the question a capture is for: did the packets leave the sending node, did they arrive at the other?
 */
import path from 'node:path';
import { pingArgv } from '../check/ping.js';
import { type DiagnosticContext } from '../kube/context.js';
import { PROFILE_LABEL } from '../kube/fleet.js';
import { SESSION_LABEL } from '../kube/session.js';
import { sleep } from '../lib/signals.js';
import { runSniff, type TargetSummary } from '../sniff/engine.js';
import { openOutput } from '../sniff/outputs.js';
import { type DoctorCapture } from './report.js';
import { parseSubject, POD_PATH, type Diagnosis } from './rules.js';

/** The profile of the probe pods check and dns ran (memoised: the same pods). */
const PROBE_PROFILE = 'pod-probe';
const PINGS = 10;
/** How long the capture runs: the probes take ~2 s after it listens; the rest is slack for a loaded cluster. */
const CAPTURE_MS = 12_000;
/** Wait after the first statistics tick before probing, so both tcpdumps are listening. */
const SETTLE_MS = 2_000;

/** Diagnoses of a broken path whose failing pod-to-pod probes a capture can replay. */
const CAPTURED: readonly string[] = ['doctor.podnet-path', 'doctor.firewall'];

/**
 * The paths worth a capture: one per path diagnosis (a firewall's too, when failing pod probes support it), its
 * first supporting pod-network probe between two nodes. Pure.
 */
export function pathsToCapture(diagnoses: readonly Diagnosis[]): { diagnosis: Diagnosis; from: string; to: string }[] {
  return diagnoses.flatMap((diagnosis) => {
    if (diagnosis.severity !== 'error' || !CAPTURED.includes(diagnosis.id)) return [];
    for (const ref of diagnosis.supporting) {
      const where = parseSubject(ref.subject);
      if (POD_PATH.includes(ref.id) && where.kind === 'pair' && where.from !== where.to)
        return [{ diagnosis, from: where.from, to: where.to }];
    }
    return [];
  });
}

/** The packets a target captured, found by its pod name in the target's label (`ns/pod/container`). */
const packetsOf = (targets: readonly TargetSummary[], pod: string): number =>
  targets.find((target) => target.label.split('/')[1] === pod)?.packets ?? 0;

export interface CaptureSettings {
  /** Where the pcapng files go. */
  readonly dir: string;
  /** sniff's record of kept uploads (upload mode), from the command. */
  readonly keptUploadsFile: string;
}

/** Captures each diagnosed path while pinging across it; one pcapng per path in `settings.dir`. */
export async function captureFailingPaths(
  ctx: DiagnosticContext,
  diagnoses: readonly Diagnosis[],
  settings: CaptureSettings,
): Promise<DoctorCapture[]> {
  const captures: DoctorCapture[] = [];
  for (const { diagnosis, from, to } of pathsToCapture(diagnoses)) {
    const fleet = await ctx.fleets.get(PROBE_PROFILE, [from, to]);
    const sender = fleet.member(from);
    const receiver = fleet.member(to);
    if (!sender || !receiver) continue;
    const file = path.join(settings.dir, `doctor-capture-${from.split('.')[0]}-${to.split('.')[0]}.pcapng`);
    let listening: () => void = () => undefined;
    const firstTick = new Promise<void>((resolve) => (listening = resolve));
    const sniffing = runSniff(
      ctx,
      {
        // Both ends' probe pods (and the other nodes', which see nothing of this path): one merged pcapng.
        target: { kind: 'selector', selector: `${SESSION_LABEL}=${ctx.session.id},${PROFILE_LABEL}=${PROBE_PROFILE}` },
        namespace: ctx.namespace,
        allNamespaces: false,
        container: undefined,
        tcpdump: {
          interface: 'any',
          filter: `icmp and src host ${sender.podIP} and dst host ${receiver.podIP}`,
          snaplen: undefined,
          count: undefined,
          immediate: true,
        },
        mode: 'auto',
        helperImage: ctx.image,
        tcpdumpImage: ctx.image,
        helperNamespace: ctx.namespace,
        durationMs: CAPTURE_MS,
        maxSizeBytes: 16 * 1024 * 1024,
        podRunningTimeoutMs: 60_000,
        resolveNames: true,
        includeSelf: false,
        keptUploadsFile: settings.keptUploadsFile,
      },
      {
        openOutput: () => openOutput([{ kind: 'file', path: file }]),
        progress: ctx.progress,
        onStats: () => listening(),
      },
    );
    await Promise.race([firstTick, sniffing]);
    await sleep(SETTLE_MS, ctx.signal);
    await fleet.exec(from, pingArgv(receiver.podIP, { count: PINGS, deadlineSeconds: 4, intervalSeconds: 0.2 }), {
      timeoutMs: 10_000,
    });
    const result = await sniffing;
    captures.push({
      diagnosis: { id: diagnosis.id, subject: diagnosis.subject },
      file,
      from,
      to,
      sent: packetsOf(result.targets, sender.pod),
      arrived: packetsOf(result.targets, receiver.pod),
    });
  }
  return captures;
}
