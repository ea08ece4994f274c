import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { createProgress, type ProgressMode, type ProgressTask } from '../../../src/lib/progress.js';

function capture(mode: ProgressMode) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const progress = createProgress({ mode, verbose: false, stderr: stream as unknown as NodeJS.WriteStream });
  return { progress, text: () => text };
}

const TASKS: ProgressTask<string>[] = [
  {
    title: 'worker1',
    run: async (detail) => {
      detail('pinging');
      return 'ok1';
    },
  },
  {
    title: 'worker2',
    run: async () => {
      throw new Error('no route');
    },
  },
  { title: 'worker3', run: async () => 'ok3' },
];

describe('progress task trees', () => {
  it('plain: a line per detail and per finished task; one failure does not stop the others', async () => {
    const { progress, text } = capture('plain');
    const results = await progress.tasks('measuring', TASKS, { concurrency: 1 });
    assert.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
      ['ok1', 'no route', 'ok3'],
    );
    assert.equal(
      text(),
      [
        'measuring ...',
        '  worker1: pinging',
        '  worker1: done',
        '  worker2: failed: no route',
        '  worker3: done',
        'measuring: 1 of 3 failed',
        '',
      ].join('\n'),
    );
  });
  it('quiet: the same outcomes, nothing printed', async () => {
    const { progress, text } = capture('quiet');
    const results = await progress.tasks('measuring', TASKS);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.equal(text(), '');
  });
  it('tty: listr2 runs the tree and returns every outcome in task order, writing to stderr only', async () => {
    // stdout is not a terminal under the test runner, which is what makes listr2 fall back to its line renderer.
    const { progress, text } = capture('tty');
    const results = await progress.tasks('measuring', TASKS, { concurrency: 2 });
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.match(text(), /worker2/);
  });
  it('tty: a single step writes to stderr too when stdout is piped', async () => {
    const { progress, text } = capture('tty');
    assert.equal(await progress.step('checking permissions', async () => 7), 7);
    assert.match(text(), /checking permissions/);
  });
});
