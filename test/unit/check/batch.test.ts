import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { batchArgv, batchBoundSeconds, parseBatchOutput } from '../../../src/check/batch.js';

/** Runs the batch with the local bash and coreutils, as the probe pod would. */
function runBatch(argv: readonly string[]) {
  const run = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout;
}

describe('the probe batch', () => {
  it('runs each argv as given (no shell re-parsing), with the shared stdin line, and reports status and output', () => {
    const commands = [
      { argv: ['printf', '%s|', 'a b', '$HOME', '"; rm -rf /'], timeoutSeconds: 2 },
      { argv: ['sh', '-c', 'cat; echo oops >&2; exit 3'], timeoutSeconds: 2 },
      { argv: ['true'], timeoutSeconds: 2 },
    ];
    const results = parseBatchOutput(runBatch(batchArgv(commands, 2)), 3);
    assert.deepEqual(
      results.map(({ exitCode, stdout, stderr }) => ({ exitCode, stdout, stderr })),
      [
        { exitCode: 0, stdout: 'a b|$HOME|"; rm -rf /|', stderr: '' },
        { exitCode: 3, stdout: 'netdiag-check\n', stderr: 'oops\n' },
        { exitCode: 0, stdout: '', stderr: '' },
      ],
    );
  });
  it('stops a command at its bound with exit 124', () => {
    const [result] = parseBatchOutput(runBatch(batchArgv([{ argv: ['sleep', '30'], timeoutSeconds: 1 }], 1)), 1);
    assert.equal(result?.exitCode, 124);
  });
  it('refuses an answer that lacks probes or is garbled', () => {
    assert.throws(() => parseBatchOutput('0 0 3  \n', 2), /answered for 1 of 2/);
    assert.throws(() => parseBatchOutput('0 0 x  \n', 1), /unexpected line 1/);
    assert.throws(() => parseBatchOutput('1 0 3  \n', 1), /unexpected line 1/);
  });
  it('bounds the whole batch by rounds of the longest command', () => {
    const commands = Array.from({ length: 5 }, () => ({ argv: ['true'], timeoutSeconds: 4 }));
    assert.equal(batchBoundSeconds(commands, 2), 3 * 5 + 5);
  });
});
