/**
 * Where a run's time goes, for `-v`: each mark reports how long the phase that just ended took and when it ended,
 * both in milliseconds since the process started (performance.now() counts from the process's time origin), so the
 * first mark includes Node's start-up and loading the CLI.
 */
export class PhaseClock {
  private last = 0;
  private readonly marked = new Set<string>();

  constructor(
    private readonly report: (line: string) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** `phase NAME: N ms (at T ms)`; each phase is reported once, the first time it is marked. */
  mark(phase: string): void {
    if (this.marked.has(phase)) return;
    this.marked.add(phase);
    const at = this.now();
    this.report(`phase ${phase}: ${Math.round(at - this.last)} ms (at ${Math.round(at)} ms)`);
    this.last = at;
  }
}

/** The phases in `-v` output, in order, with their durations. Pure (the bench reads them back with it). */
export function parsePhases(text: string): { phase: string; ms: number; at: number }[] {
  return [...text.matchAll(/phase ([a-z][a-z -]*): (\d+) ms \(at (\d+) ms\)/g)].map((m) => ({
    phase: m[1]!,
    ms: Number(m[2]),
    at: Number(m[3]),
  }));
}
