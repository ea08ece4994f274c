import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  nestedProgress,
  runEngines,
  stepFinding,
  type DoctorEngine,
  type EngineName,
} from '../../../src/doctor/engine.js';
import { type DoctorOptions } from '../../../src/doctor/options.js';
import { type DiagnosticContext } from '../../../src/kube/context.js';
import { createProgress } from '../../../src/lib/progress.js';

const options: DoctorOptions = {
  quick: false,
  bwDurationMs: 3000,
  bundle: false,
  baseline: undefined,
};

/** An engine that records when it ran and finishes after `ms` (or fails with `error`). */
function fakeEngine(name: EngineName, measures: boolean, log: string[], ms: number, error?: Error): DoctorEngine {
  return {
    name,
    measures,
    requirements: () => [],
    run: async (ctx) => {
      log.push(`start ${name}`);
      await ctx.progress.step(`${name} step`, () => new Promise((resolve) => setTimeout(resolve, ms)));
      log.push(`end ${name}`);
      if (error) throw error;
      return {
        result: {
          command: name,
          data: { ran: name },
          findings: [{ id: `${name}.x`, subject: 'cluster', status: 'pass', summary: '', evidence: [] }],
          unavailable: [],
        },
        files: [{ name: `${name}.txt`, content: name }],
      };
    },
  };
}

const context = (signal = new AbortController().signal) =>
  ({ progress: createProgress({ mode: 'quiet', verbose: false }), signal }) as unknown as DiagnosticContext;

describe('runEngines', () => {
  it('probing engines run side by side, the measuring one alone after them', async () => {
    const log: string[] = [];
    const runs = await runEngines(context(), options, [
      fakeEngine('bw', true, log, 5),
      fakeEngine('node', false, log, 30),
      fakeEngine('dns', false, log, 10),
    ]);
    // Both probing engines started before either ended; bw started after both ended (order of ends is timing).
    const at = (entry: string) => log.indexOf(entry);
    assert.ok(Math.max(at('start node'), at('start dns')) < Math.min(at('end node'), at('end dns')), log.join(', '));
    assert.ok(at('start bw') > Math.max(at('end node'), at('end dns')), log.join(', '));
    assert.equal(log.at(-1), 'end bw');
    assert.deepEqual(Object.keys(runs.results).sort(), ['bw', 'dns', 'node']);
    assert.deepEqual(
      runs.files.map((file) => file.name),
      ['node.txt', 'dns.txt', 'bw.txt'],
    );
    assert.deepEqual(
      runs.steps.map((step) => `${step.name} ${step.status}`),
      ['node ok', 'dns ok', 'bw ok'],
    );
    // Every step is timed (the shortest sleeps 5 ms); libuv arms timers from its cached loop time, so a 5 ms timer
    // can end 4 ms after a Date.now() taken just before it (measured: 1 run in 8).
    assert.ok(
      runs.steps.every((step) => step.durationMs >= 4),
      runs.steps.map((step) => step.durationMs).join(', '),
    );
  });

  it('an engine that fails is a failed step with its reason; the others still report', async () => {
    const log: string[] = [];
    const runs = await runEngines(context(), options, [
      fakeEngine('node', false, log, 1, new Error('no node-inspector could run')),
      fakeEngine('check', false, log, 1),
    ]);
    assert.deepEqual(Object.keys(runs.results), ['check']);
    assert.deepEqual(
      runs.steps.map(({ name, status, reason }) => ({ name, status, reason })),
      [
        { name: 'node', status: 'failed', reason: 'no node-inspector could run' },
        { name: 'check', status: 'ok', reason: undefined },
      ],
    );
  });

  it('an interruption ends the run', async () => {
    const abort = new AbortController();
    const log: string[] = [];
    const interrupted = new Error('interrupted by SIGINT');
    const engine: DoctorEngine = {
      ...fakeEngine('dns', false, log, 1),
      run: async () => {
        abort.abort(interrupted);
        throw interrupted;
      },
    };
    await assert.rejects(
      runEngines(context(abort.signal), options, [engine, fakeEngine('bw', true, log, 1)]),
      interrupted,
    );
    assert.deepEqual(log, [], 'bw never started');
  });
});

describe('nestedProgress', () => {
  it("an engine's steps and tasks become its task's sub-line", async () => {
    const lines: string[] = [];
    const progress = nestedProgress(createProgress({ mode: 'quiet', verbose: false }), (text) => lines.push(text));
    await progress.step('creating pods', async (detail) => detail('2/3 running'));
    const outcomes = await progress.tasks('probing', [
      { title: 'worker1', run: async (detail) => detail('ping') },
      { title: 'worker2', run: async () => Promise.reject(new Error('timeout')) },
    ]);
    assert.deepEqual(lines, ['creating pods', 'creating pods: 2/3 running', 'probing', 'probing: worker1: ping']);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected'],
    );
  });
});

describe('stepFinding', () => {
  it('a command that could not run is a failed doctor.step finding; one that ran or was skipped is none', () => {
    assert.deepEqual(stepFinding({ name: 'check', status: 'ok', durationMs: 1 }), []);
    assert.deepEqual(stepFinding({ name: 'bw', status: 'skipped', durationMs: 0, reason: '--quick' }), []);
    const [finding] = stepFinding({ name: 'dns', status: 'failed', durationMs: 60_000, reason: 'no pod-probe pod' });
    assert.deepEqual(
      { id: finding?.id, subject: finding?.subject, status: finding?.status, summary: finding?.summary },
      { id: 'doctor.step', subject: 'cluster', status: 'fail', summary: 'dns did not run: no pod-probe pod' },
    );
  });
});
