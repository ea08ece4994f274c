import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PhaseClock, parsePhases } from '../../../src/lib/phases.js';

describe('PhaseClock', () => {
  it('reports each phase once, its duration since the previous mark and its time since the process began', () => {
    const lines: string[] = [];
    const times = [310.4, 402, 1507.6, 1711];
    const clock = new PhaseClock(
      (line) => lines.push(line),
      () => times.shift()!,
    );
    clock.mark('start');
    clock.mark('preflight');
    clock.mark('preflight');
    clock.mark('setup');
    clock.mark('first packet');
    assert.deepEqual(lines, [
      'phase start: 310 ms (at 310 ms)',
      'phase preflight: 92 ms (at 402 ms)',
      'phase setup: 1106 ms (at 1508 ms)',
      'phase first packet: 203 ms (at 1711 ms)',
    ]);
    assert.deepEqual(parsePhases(lines.map((l) => `debug: ${l}`).join('\n')), [
      { phase: 'start', ms: 310, at: 310 },
      { phase: 'preflight', ms: 92, at: 402 },
      { phase: 'setup', ms: 1106, at: 1508 },
      { phase: 'first packet', ms: 203, at: 1711 },
    ]);
  });
});
