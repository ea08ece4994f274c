/**
 * Reads the probe outputs captured from the lab under test/fixtures/check: each file records where and how it was
 * produced (`# where:`, `# command:`, `# exit:`) followed by the command's stdout and stderr.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), '../../../../test/fixtures/check');

export interface CapturedRun {
  readonly command: string;
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function capturedRun(name: string): CapturedRun {
  const text = readFileSync(join(FIXTURES, `${name}.txt`), 'utf8');
  const header = (key: string): string => {
    const value = new RegExp(`^# ${key}: (.*)$`, 'm').exec(text)?.[1];
    if (value === undefined) throw new Error(`fixture ${name} has no "# ${key}:" line`);
    return value;
  };
  const stdoutStart = text.indexOf('--- stdout\n');
  const stderrStart = text.indexOf('--- stderr\n');
  if (stdoutStart < 0 || stderrStart < stdoutStart) throw new Error(`fixture ${name} lacks its stdout/stderr parts`);
  return {
    command: header('command'),
    exitCode: Number(header('exit')),
    stdout: text.slice(stdoutStart + '--- stdout\n'.length, stderrStart),
    stderr: text.slice(stderrStart + '--- stderr\n'.length),
  };
}
