/**
 * What one probe's run means: reachable or not, why not (from the tool's exit status and what it printed), how long
 * it took. Pure; tested on real output of ping, nc (netcat-openbsd) and curl from the lab (test/fixtures/check).
 */
import type { BatchResult } from './batch.js';
import { pingOutcome } from './ping.js';
import type { Probe } from './probes.js';
import { reasonInText, type FailureReason } from './reasons.js';

export interface ProbeOutcome {
  readonly ok: boolean;
  readonly reason?: FailureReason;
  /** The line that says what happened (`Connection to 10.233.65.4 9000 port [tcp/*] succeeded!`, curl's error). */
  readonly detail: string;
  /** Measured by the tool itself: ping's average round trip, curl's total time. Milliseconds. */
  readonly latencyMs?: number;
  /** TCP: the probe's wall time in the pod, starting nc included (an upper bound of the connect time). */
  readonly elapsedMs?: number;
  /** HTTP probes that got an answer. */
  readonly httpStatus?: number;
  /** DF pings: the MTU the sender was told (ICMP "frag needed", or the kernel's cached path MTU). */
  readonly mtu?: number;
}

const firstLine = (text: string): string | undefined =>
  text
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line !== '');

/**
 * A failure with the reason and line the output names; exit 124 (`timeout` fired) is a timeout whatever was
 * printed; otherwise `said` (the tool's own verdict line) and reason `error`.
 */
function failure(result: BatchResult, said: string | undefined): ProbeOutcome {
  if (result.exitCode === 124) return { ok: false, reason: 'timeout', detail: said ?? 'no answer before the deadline' };
  const named = reasonInText(`${result.stdout}\n${result.stderr}`);
  if (named !== undefined) return { ok: false, reason: named.reason, detail: named.line };
  return { ok: false, reason: 'error', detail: said ?? `exit status ${result.exitCode}` };
}

/** nc -z -v: exit 0 and "succeeded!" when the connection was made. */
function tcpOutcome(result: BatchResult): ProbeOutcome {
  const said = firstLine(result.stderr) ?? firstLine(result.stdout);
  if (result.exitCode === 0) return { ok: true, detail: said ?? 'connected', elapsedMs: result.elapsedMs };
  return failure(result, said);
}

/**
 * nc -u: the echo server sends our line back. No answer and no error is `no-reply` (a UDP service that ignores our
 * line looks the same, so the checks decide what that means). No time: nc waits out `-w` either way.
 */
function udpOutcome(result: BatchResult): ProbeOutcome {
  if (result.stdout.includes('netdiag-check')) return { ok: true, detail: 'echoed' };
  const said = firstLine(result.stderr);
  if (said === undefined && result.exitCode !== 124) return { ok: false, reason: 'no-reply', detail: 'no answer' };
  return failure(result, said);
}

const CURL_STATUS = /^netdiag-http (\d{3}) ([\d.]+)$/m;

/**
 * curl -v: the marker line gives the status and total time; an HTTP answer of 400 or more fails with `http-<code>`
 * unless the probe takes any status. curl's own error (exit 6, 7, 28, ...) is named by the `*` line from -v.
 */
function httpOutcome(probe: Probe, result: BatchResult): ProbeOutcome {
  const marker = CURL_STATUS.exec(result.stdout);
  const status = marker ? Number(marker[1]) : 0;
  const latencyMs = marker ? Math.round(Number(marker[2]) * 1000) : undefined;
  if (result.exitCode === 0 && status > 0) {
    const detail = `HTTP ${status}`;
    if (status < 400 || probe.anyHttpStatus === true)
      return { ok: true, detail, httpStatus: status, ...(latencyMs === undefined ? {} : { latencyMs }) };
    return { ok: false, reason: `http-${status}`, detail, httpStatus: status };
  }
  const curlError = result.stderr.split('\n').find((line) => line.startsWith('curl: ('));
  return failure(result, curlError?.trim());
}

function pingProbeOutcome(result: BatchResult): ProbeOutcome {
  const ping = pingOutcome(result.exitCode, result.stdout, result.stderr);
  if (ping.ok) {
    const avg = ping.report.rtt?.avgMs;
    const loss = ping.report.statistics?.lossPercent ?? 0;
    return {
      ok: true,
      detail: `${ping.report.statistics?.received ?? 0}/${ping.report.statistics?.transmitted ?? 0} replies${loss > 0 ? ` (${loss}% loss)` : ''}`,
      ...(avg === undefined ? {} : { latencyMs: avg }),
    };
  }
  return {
    ok: false,
    reason: ping.reason,
    detail: ping.detail,
    ...(ping.report.mtu === undefined ? {} : { mtu: ping.report.mtu }),
  };
}

export function probeOutcome(probe: Probe, result: BatchResult): ProbeOutcome {
  switch (probe.kind) {
    case 'ping':
      return pingProbeOutcome(result);
    case 'tcp':
      return tcpOutcome(result);
    case 'udp':
      return udpOutcome(result);
    case 'http':
      return httpOutcome(probe, result);
  }
}
