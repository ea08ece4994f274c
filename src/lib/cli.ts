/**
 * Entry point of `kubectl-netdiag` (bin/kubectl-netdiag runs it with Node ≥ 22). Runs oclif and renders every error
 * that reaches the top the same way: `error: <cause>` and `fix: <fix>` on stderr, exit code from the contract
 * (src/lib/errors.ts), stack traces only with -v.
 */
import { readFileSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flush, run, type Interfaces } from '@oclif/core';
import { reportError } from './output.js';

export async function main(argv: readonly string[]): Promise<void> {
  // Commands import @kubernetes/client-node lazily; the on-disk compile cache roughly halves that import on later runs.
  enableCompileCache();
  try {
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const pjson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as Interfaces.PJSON;
    // Users type `kubectl netdiag`, so help and examples say so (the executable is kubectl-netdiag).
    pjson.oclif = { ...pjson.oclif, bin: 'kubectl netdiag' };
    await run([...argv], { root, pjson });
    await flush();
  } catch (err) {
    reportError(err, argv.includes('-v') || argv.includes('--verbose'));
  }
}

await main(process.argv.slice(2));
