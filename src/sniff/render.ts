/** Text for the operator: live statistics and the final summary (stderr; stdout may carry the capture). */
import { formatDuration } from '../lib/duration.js';
import type { CaptureStats } from '../pcap/stats.js';
import type { SniffResult } from './engine.js';
import { formatBytes } from '../lib/units.js';

/** One line per target: packets, bytes, rates. Pure. */
export function statsLines(stats: readonly CaptureStats[]): string[] {
  const width = Math.max(...stats.map((s) => s.target.length), 6);
  return stats.map(
    (s) =>
      `${s.target.padEnd(width)}  ${String(s.packets).padStart(9)} pkts  ${formatBytes(s.bytes).padStart(10)}  ${s.packetsPerSecond.toFixed(0).padStart(7)} pkt/s  ${`${formatBytes(s.bytesPerSecond)}/s`.padStart(12)}`,
  );
}

/** Redraws the statistics block in place on a terminal. */
export class LiveStats {
  private drawn = 0;
  constructor(private readonly out: NodeJS.WritableStream) {}

  draw(stats: readonly CaptureStats[]): void {
    const lines = statsLines(stats);
    const up = this.drawn > 0 ? `\u001b[${this.drawn}F` : '';
    this.out.write(`${up}${lines.map((l) => `\u001b[2K${l}`).join('\n')}\n`);
    this.drawn = lines.length;
  }
}

const STOP_TEXT: Record<SniffResult['stopReason'], string> = {
  completed: 'tcpdump finished (--count reached)',
  duration: 'duration reached',
  'max-size': '--max-size reached',
  interrupted: 'stopped by the user',
  'output-gone': 'output closed',
  failed: 'capture lost',
};

/** The summary printed when the capture ends. Pure. */
export function summaryLines(result: SniffResult): string[] {
  const packets = result.targets.reduce((sum, t) => sum + t.packets, 0);
  const bytes = result.targets.reduce((sum, t) => sum + t.bytes, 0);
  const dropped = result.targets.reduce(
    (sum, t) => sum + (t.tcpdump.droppedByKernel ?? 0) + (t.tcpdump.droppedByInterface ?? 0),
    0,
  );
  const lines: string[] = [];
  if (result.targets.length > 1) {
    for (const t of result.targets) {
      lines.push(
        `  ${t.label}: ${t.packets} packets, ${formatBytes(t.bytes)}, kernel dropped ${t.tcpdump.droppedByKernel ?? '?'}${t.error ? ` (${t.error})` : ''}`,
      );
    }
  }
  const detail =
    result.stopDetail && result.stopReason !== 'interrupted' && result.stopReason !== 'duration'
      ? `: ${result.stopDetail}`
      : '';
  const where = result.written
    ? ` → ${result.output} (${result.format}, ${formatBytes(result.bytesWritten)})`
    : `; nothing written to ${result.output}`;
  lines.push(
    `captured ${packets} packets (${formatBytes(bytes)}) from ${result.targets.length} target${result.targets.length === 1 ? '' : 's'} in ${formatDuration(Math.round(result.captureMs / 100) * 100)}` +
      `${where}; kernel dropped ${dropped}; ${result.mode} mode; ${STOP_TEXT[result.stopReason]}${detail}`,
  );
  return lines;
}
