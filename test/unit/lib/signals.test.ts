import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { createRunAbort, InterruptedError, sleep } from '../../../src/lib/signals.js';

describe('createRunAbort', () => {
  it('aborts on the first SIGINT and exits 130 on the second', () => {
    const source = new EventEmitter();
    const exits: number[] = [];
    const run = createRunAbort(
      source,
      (code) => exits.push(code),
      () => undefined,
    );
    assert.equal(run.signal.aborted, false);
    source.emit('SIGINT');
    assert.equal(run.signal.aborted, true);
    assert.ok(run.signal.reason instanceof InterruptedError);
    assert.equal(run.received(), 'SIGINT');
    assert.deepEqual(exits, []);
    source.emit('SIGINT');
    assert.deepEqual(exits, [130]);
    run.dispose();
    assert.equal(source.listenerCount('SIGINT'), 0);
    assert.equal(source.listenerCount('SIGTERM'), 0);
  });
  it('treats SIGTERM like SIGINT', () => {
    const source = new EventEmitter();
    const run = createRunAbort(
      source,
      () => undefined,
      () => undefined,
    );
    source.emit('SIGTERM');
    assert.equal((run.signal.reason as InterruptedError).signalName, 'SIGTERM');
  });
  it('sleep rejects with the abort reason', async () => {
    const controller = new AbortController();
    const pending = sleep(10_000, controller.signal);
    controller.abort(new InterruptedError('SIGINT'));
    await assert.rejects(pending, InterruptedError);
  });
});
