/**
 * `kubectl netdiag check` on the healthy lab, run as a user runs it: every cluster probe passes, the world's HTTP
 * page answers by name and by address, the closed port 81 is refused and the filtered port 82 times out — failures
 * only because they were asked for — with the documented exit codes, and nothing is left behind. The lab's faults
 * are in test/e2e/faults/check.scenarios.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Finding } from '../../src/findings/model.js';
import { assertMatchesSchema } from '../schema.js';
import {
  createNamespace,
  deleteNamespace,
  haveCluster,
  kubectlOk,
  MANAGED,
  netdiag,
  waitFor,
  type Run,
} from './harness.js';

const skip = haveCluster() ? false : 'no cluster (KUBECONFIG)';

interface CheckReport {
  command: string;
  findings: Finding[];
  unavailable: unknown[];
  data: { nodes: string[]; probes: { id: string; ok: boolean }[]; coverage: { pairsChecked: number } };
}

/** What the world looks like from the lab (docs/lab.md). */
const WORLD = { name: 'www.netdiag.test', address: '172.30.78.80' };

async function check(namespace: string, args: readonly string[]): Promise<{ run: Run; report: CheckReport }> {
  const run = await netdiag(['check', '-n', namespace, '-o', 'json', ...args]).done;
  let report: CheckReport;
  try {
    report = JSON.parse(run.stdout) as CheckReport;
  } catch {
    assert.fail(`no JSON from check (exit ${run.status}): ${run.stdout.slice(0, 500)}\n${run.stderr.slice(-2000)}`);
  }
  return { run, report };
}

const failing = (report: CheckReport) =>
  report.findings.filter((f) => f.status !== 'pass').map((f) => `${f.status} ${f.id} ${f.subject} ${f.summary}`);

/** The run's pods and Service in its namespace: none may outlive it. */
const leftovers = (namespace: string) =>
  kubectlOk(['get', 'pods,services', '-n', namespace, '-l', MANAGED, '-o', 'name']).trim();

describe('kubectl netdiag check', { skip }, () => {
  let namespace = '';
  before(() => {
    namespace = createNamespace('netdiag-check');
  });
  after(() => deleteNamespace(namespace));

  it('passes every probe on the healthy lab, the world by name and by address included (exit 0)', async () => {
    const { run, report } = await check(namespace, [
      '--url',
      `http://${WORLD.name}/`,
      '--url',
      `http://${WORLD.address}/`,
      '--target',
      `${WORLD.name}:8080`,
      '--ping',
      WORLD.name,
    ]);
    assert.deepEqual(failing(report), [], run.stderr);
    assert.equal(run.status, 0, run.stderr);
    assertMatchesSchema('check', report);
    const nodes = report.data.nodes;
    assert.equal(report.unavailable.length, 0);
    const count = (id: string) => report.findings.filter((f) => f.id === id).length;
    // every ordered pair, the same node included, and every node's view of the Service and the world
    assert.equal(count('check.l3.pod-pod'), nodes.length ** 2);
    assert.equal(count('check.l4.nodeport'), nodes.length ** 2);
    assert.equal(count('check.mtu'), nodes.length * (nodes.length - 1));
    assert.equal(count('check.l4.clusterip'), nodes.length * 2);
    assert.equal(count('check.l7.http'), nodes.length * 2);
    assert.equal(count('check.kubernetes-service'), nodes.length);
    assert.equal(count('check.external.http'), nodes.length * 2);
    assert.equal(count('check.external.tcp'), nodes.length);
    assert.equal(count('check.external.ping'), nodes.length);
    const http = report.findings.find(
      (f) => f.id === 'check.external.http' && f.metrics?.target === `http://${WORLD.name}/`,
    );
    assert.equal(http?.metrics?.httpStatus, 200);
    assert.equal(leftovers(namespace), '');
  });

  it('reports the closed port refused and the filtered one timed out, as failures of the targets asked for (exit 1)', async () => {
    const { run, report } = await check(namespace, [
      '--target',
      `${WORLD.name}:81`,
      '--target',
      `${WORLD.address}:82`,
      '--skip-mtu',
    ]);
    assert.equal(run.status, 1, run.stderr);
    const problems = report.findings.filter((f) => f.status !== 'pass');
    assert.ok(problems.length > 0);
    for (const finding of problems) {
      assert.equal(finding.id, 'check.external.tcp', `${finding.id} ${finding.subject}: ${finding.summary}`);
      assert.equal(finding.status, 'fail');
    }
    for (const node of report.data.nodes) {
      const reasonOf = (target: string) =>
        report.findings.find((f) => f.subject === `node/${node}` && f.metrics?.target === target)?.metrics?.reason;
      assert.equal(reasonOf(`${WORLD.name}:81`), 'refused', node);
      assert.equal(reasonOf(`${WORLD.address}:82`), 'timeout', node);
    }
    await waitFor('the run’s pods and Service to be gone', () => leftovers(namespace) === '', 30_000);
  });

  it('refuses bad input with exit 2 before creating anything', async () => {
    for (const args of [
      ['--target', 'nohost'],
      ['--url', 'ftp://x/'],
      ['--sample', '0'],
      ['--nodes', 'no-such-node'],
    ]) {
      const run = await netdiag(['check', '-n', namespace, ...args]).done;
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /^error: .+\nfix: .+/m);
    }
    assert.equal(leftovers(namespace), '');
  });

  it('stops on Ctrl-C with exit 130 and deletes what it created', async () => {
    const run = netdiag(['check', '-n', namespace]);
    await waitFor('check to create its pods', () => leftovers(namespace).includes('pod/'), 60_000, 200);
    run.child.kill('SIGINT');
    const result = await run.done;
    assert.equal(result.status, 130, result.stderr);
    assert.equal(leftovers(namespace), '');
  });
});
