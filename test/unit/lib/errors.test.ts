import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Errors, Flags, Parser } from '@oclif/core';
import {
  ExitCode,
  InterruptedError,
  NetdiagError,
  environmentError,
  renderError,
  usageError,
} from '../../../src/lib/errors.js';

describe('renderError', () => {
  it('prints cause and fix of a NetdiagError with its exit code', () => {
    const rendered = renderError(usageError('pod "x" not found', 'list pods'), { verbose: false });
    assert.equal(rendered.exitCode, ExitCode.Usage);
    assert.deepEqual(rendered.lines, ['error: pod "x" not found', 'fix: list pods']);
  });

  it('appends the detail block (e.g. Role YAML) after the fix', () => {
    const err = environmentError('forbidden', 'bind this role', { detail: 'kind: Role\n' });
    assert.deepEqual(renderError(err, { verbose: false }).lines, [
      'error: forbidden',
      'fix: bind this role',
      'kind: Role',
    ]);
    assert.equal(renderError(err, { verbose: false }).exitCode, ExitCode.Environment);
  });

  it('maps oclif parse errors from the real parser to exit 2 without the trailing help hint', async () => {
    const failure = await Parser.parse(['--nope'], { flags: { known: Flags.string() }, strict: true }).catch(
      (err: unknown) => err,
    );
    const rendered = renderError(failure, { verbose: false });
    assert.equal(rendered.exitCode, ExitCode.Usage);
    assert.match(rendered.lines[0] ?? '', /^error: Nonexistent flag: --nope$/);
    assert.match(rendered.lines[1] ?? '', /^fix: /);
  });

  it('maps an invalid option value to exit 2', async () => {
    const failure = await Parser.parse(['-o', 'xml'], {
      flags: { output: Flags.string({ char: 'o', options: ['json', 'yaml'] }) },
    }).catch((err: unknown) => err);
    assert.equal(renderError(failure, { verbose: false }).exitCode, ExitCode.Usage);
  });

  it('maps "command not found" (a CLIError) to exit 2', () => {
    assert.equal(
      renderError(new Errors.CLIError('command nope not found'), { verbose: false }).exitCode,
      ExitCode.Usage,
    );
  });

  it('reports an interruption with 130', () => {
    assert.equal(renderError(new InterruptedError('SIGTERM'), { verbose: false }).exitCode, 130);
  });

  it('treats unexpected errors as exit 3 and shows the stack only when verbose', () => {
    const bug = new TypeError('x is undefined');
    const quiet = renderError(bug, { verbose: false });
    assert.equal(quiet.exitCode, ExitCode.Environment);
    assert.equal(quiet.lines.length, 2);
    assert.ok(!quiet.lines.join('\n').includes('at '), 'no stack without -v');
    const verbose = renderError(bug, { verbose: true });
    assert.ok(verbose.lines.join('\n').includes('errors.test'), 'stack with -v');
  });

  it('keeps NetdiagError causes on one line', () => {
    const rendered = renderError(new NetdiagError(ExitCode.Environment, 'line one\nline two'), { verbose: false });
    assert.deepEqual(rendered.lines, ['error: line one line two']);
  });
});
