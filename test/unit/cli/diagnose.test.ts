import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Config } from '@oclif/core';
import { NetdiagCommand } from '../../../src/cli/command.js';
import { diagnosticFlags } from '../../../src/cli/flags.js';
import type { DiagnosticContext } from '../../../src/kube/context.js';
import { NetdiagError } from '../../../src/lib/errors.js';
import { localKubeconfig } from '../kube/local-kubeconfig.js';

/** What a diagnosis command's engine saw. */
let seenContext: DiagnosticContext | undefined;

/** The smallest diagnosis command: its engine fails one check on every selected node. */
class Probe extends NetdiagCommand {
  static override flags = { ...diagnosticFlags };
  async run(): Promise<void> {
    const { flags } = await this.parseFlags(Probe);
    await this.diagnose(flags, async (ctx) => {
      seenContext = ctx;
      return {
        command: 'probe',
        data: { nodes: ctx.nodes.length },
        findings: ctx.nodes.map((node) => ({
          id: 'probe.reachable',
          subject: `node/${node.name}`,
          status: 'fail' as const,
          summary: 'no answer',
          evidence: [],
        })),
        unavailable: [],
      };
    });
  }
}

/**
 * NetdiagCommand.diagnose, the path every diagnosis command takes, against a local API listener: node selection
 * before anything is created, the context handed to the engine, rendering on stdout, exit code 1, `api requests`.
 */
describe('NetdiagCommand.diagnose', () => {
  let server: Server;
  let kubeconfig: string;
  let config: Config;
  const requests: string[] = [];

  before(async () => {
    server = createServer((request, response) => {
      requests.push(`${request.method} ${request.url}`);
      response.writeHead(200, { 'content-type': 'application/json' });
      const node = (name: string) => ({
        metadata: { name },
        status: { conditions: [{ type: 'Ready', status: 'True' }] },
      });
      response.end(JSON.stringify({ kind: 'NodeList', metadata: {}, items: [node('w1.lab'), node('w2.lab')] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    kubeconfig = localKubeconfig((server.address() as AddressInfo).port);
    config = await Config.load(path.resolve(fileURLToPath(import.meta.url), '../../../../..'));
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  /** Runs Probe with argv, capturing stdout and stderr; restores the exit code the run set. */
  async function runProbe(
    argv: string[],
  ): Promise<{ stdout: string; stderr: string; exitCode: unknown; error?: unknown }> {
    const writes = { stdout: '', stderr: '' };
    const original = { stdout: process.stdout.write, stderr: process.stderr.write };
    // Only text is the command's: the test runner talks to its parent through stdout in binary frames.
    const tap = (stream: 'stdout' | 'stderr') =>
      function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
        if (typeof chunk !== 'string')
          return (original[stream] as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
        writes[stream] += chunk;
        return true;
      } as typeof process.stdout.write;
    process.stdout.write = tap('stdout');
    process.stderr.write = tap('stderr');
    let error: unknown;
    try {
      // _run is what oclif calls: init, run, catch, finally (cleanup), as for a real command.
      await (new Probe(['--kubeconfig', kubeconfig, ...argv], config) as unknown as { _run(): Promise<void> })._run();
    } catch (err) {
      error = err;
    } finally {
      process.stdout.write = original.stdout;
      process.stderr.write = original.stderr;
    }
    const exitCode = process.exitCode;
    process.exitCode = 0;
    return { ...writes, exitCode, error };
  }

  it('an unknown node is bad input (exit 2) and nothing is created or run', async () => {
    seenContext = undefined;
    requests.length = 0;
    const { error } = await runProbe(['--nodes', 'w1,nope']);
    assert.ok(error instanceof NetdiagError && error.exitCode === 2, String(error));
    assert.match((error as Error).message, /node "nope" not found/);
    assert.equal(seenContext, undefined, 'the engine never ran');
    assert.deepEqual(requests, ['GET /api/v1/nodes']);
  });

  it('hands the engine one context, renders its result and exits 1 on a failed finding', async () => {
    requests.length = 0;
    const { stdout, stderr, exitCode, error } = await runProbe(['--nodes', 'w2', '-o', 'json', '-n', 'diag', '-v']);
    assert.equal(error, undefined);
    assert.deepEqual(
      seenContext?.nodes.map((node) => node.name),
      ['w2.lab'],
    );
    assert.equal(seenContext?.namespace, 'diag');
    assert.match(seenContext?.session.id ?? '', /^[0-9a-f]{8}$/);
    assert.equal(JSON.parse(stdout).findings[0].subject, 'node/w2.lab');
    assert.equal(exitCode, 1);
    assert.match(stderr, /^debug: api requests: 1$/m);
  });

  it('every Ready node by default, as a table', async () => {
    const { stdout, exitCode } = await runProbe([]);
    assert.match(stdout, /^fail +probe\.reachable +node\/w1\.lab +no answer$/m);
    assert.match(stdout, /^fail +probe\.reachable +node\/w2\.lab +no answer$/m);
    assert.equal(exitCode, 1);
  });
});
