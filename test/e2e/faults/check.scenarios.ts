/**
 * `kubectl netdiag check` under the lab's faults (the shared driver injects each once): every fault is named on
 * the right layer and the right nodes or pairs, and nothing else fails. Assertions read `-o json` ids, subjects and
 * metrics, never prose.
 */
import assert from 'node:assert/strict';
import type { Finding } from '../../../src/findings/model.js';
import {
  assertReported,
  FAULTS,
  labNode,
  nodeSubject,
  pairSubject,
  parseJson,
  type CliRun,
  type Fault,
  type FaultScenario,
} from './registry.js';

interface CheckReport {
  readonly findings: readonly Finding[];
}

/** The world's web server (docs/lab.md). */
const WORLD = 'www.netdiag.test';
const WORKERS = ['worker1', 'worker2', 'worker3'] as const;

function report(run: CliRun): CheckReport {
  const parsed = parseJson<CheckReport>(run);
  assert.equal(run.status, 1, `check must exit 1 under a fault; stderr: ${run.stderr.slice(-1500)}`);
  return parsed;
}

/** The subjects of the findings with this id that fail, sorted. */
const failingSubjects = (findings: readonly Finding[], id: string): string[] =>
  findings
    .filter((finding) => finding.id === id && finding.status === 'fail')
    .map((finding) => finding.subject)
    .sort();

/** Every failing finding is one of `ids`: the fault shows where it should and nowhere else. */
function assertOnlyFailing(findings: readonly Finding[], ids: readonly string[]): void {
  const others = findings
    .filter((finding) => finding.status === 'fail' && !ids.includes(finding.id))
    .map((finding) => `${finding.id} ${finding.subject}: ${finding.summary}`);
  assert.deepEqual(others, [], `only ${ids.join(', ')} may fail`);
}

const scenario = (fault: Fault, title: string, run: FaultScenario['run']): FaultScenario => ({
  fault,
  command: 'check',
  title,
  run,
});

export const scenarios: readonly FaultScenario[] = [
  scenario(
    FAULTS.controllerManagerDown,
    'the test Service gets no endpoints: named once for the cluster, no Service probe blames kube-proxy',
    async (ctx) => {
      const { findings } = report(await ctx.netdiag(['check', '--skip-mtu', '-o', 'json']));
      assertReported(findings, { id: 'check.service.endpoints', subject: 'cluster', status: 'fail' });
      const serviceProbes = ['check.l4.clusterip', 'check.l4.nodeport', 'check.l4.name', 'check.l7.http'];
      assert.deepEqual(
        findings.filter((f) => serviceProbes.includes(f.id)).map((f) => `${f.id} ${f.subject}`),
        [],
        'the Service probes are not sent',
      );
      for (const worker of WORKERS)
        assertReported(findings, { id: 'check.kubernetes-service', subject: nodeSubject(worker), status: 'pass' });
      assertOnlyFailing(findings, ['check.service.endpoints']);
    },
  ),
  scenario(FAULTS.mtu, 'names the MTU black hole between worker2 and the others, with the sizes', async (ctx) => {
    const { findings } = report(await ctx.netdiag(['check', '-o', 'json']));
    const [faulted] = FAULTS.mtu.args;
    const others = WORKERS.filter((worker) => worker !== faulted);
    const pairs = others.flatMap((other) => [pairSubject(other, faulted!), pairSubject(faulted!, other)]).sort();
    assert.deepEqual(failingSubjects(findings, 'check.mtu'), pairs);
    const mtu = Number(FAULTS.mtu.args[1]);
    for (const finding of findings.filter((f) => f.id === 'check.mtu' && f.status === 'fail')) {
      const pathMtu = Number(finding.metrics?.pathMtu);
      // A veth lets a frame through up to its MTU plus a VLAN header's 4 bytes: the path takes 1400–1404 here.
      assert.ok(pathMtu >= mtu && pathMtu <= mtu + 4, `${finding.subject}: path MTU ${pathMtu}`);
      assert.ok(['black-hole', 'fragmentation-needed'].includes(String(finding.metrics?.verdict)), finding.summary);
    }
    // Into the node the oversize frames vanish silently: that direction is the black hole.
    assertReported(findings, { id: 'check.mtu', subject: pairSubject(others[0]!, faulted!), status: 'fail' });
    assert.equal(
      findings.find((f) => f.id === 'check.mtu' && f.subject === pairSubject(others[0]!, faulted!))?.metrics?.verdict,
      'black-hole',
    );
    assertOnlyFailing(findings, ['check.mtu']);
  }),

  scenario(FAULTS.kubeProxyBroken, 'ClusterIP and NodePort fail from worker3 while pod IPs pass', async (ctx) => {
    const { findings } = report(await ctx.netdiag(['check', '--skip-mtu', '-o', 'json']));
    const [broken] = FAULTS.kubeProxyBroken.args;
    assert.deepEqual(failingSubjects(findings, 'check.l4.clusterip'), [nodeSubject(broken!), nodeSubject(broken!)]);
    assert.deepEqual(failingSubjects(findings, 'check.kubernetes-service'), [nodeSubject(broken!)]);
    assert.deepEqual(failingSubjects(findings, 'check.l4.podip'), []);
    assert.deepEqual(failingSubjects(findings, 'check.l3.pod-pod'), []);
    // A NodePort answers through the rules of the node whose address is used: every pair to the broken node fails.
    for (const from of WORKERS) {
      assertReported(findings, { id: 'check.l4.nodeport', subject: pairSubject(from, broken!), status: 'fail' });
    }
    for (const from of WORKERS.filter((worker) => worker !== broken)) {
      assertReported(findings, { id: 'check.l4.clusterip', subject: nodeSubject(from), status: 'pass' });
    }
    assertOnlyFailing(findings, [
      'check.l4.clusterip',
      'check.l4.nodeport',
      'check.l4.name',
      'check.l7.http',
      'check.kubernetes-service',
    ]);
    // The Service's name may fail from any node: the CoreDNS replica on the broken node reaches the API server
    // through the kubernetes ClusterIP, so it never learns of the new test Service and answers NXDOMAIN to the
    // queries kube-dns sends it (measured: unresolved from worker2). On the broken node itself the lookup hangs
    // (its node cache cannot reach kube-dns): the probe times out (measured), or fails to resolve should the cache
    // give up first.
    for (const finding of findings.filter((f) => f.status === 'fail' && f.id === 'check.l4.name')) {
      const expected = finding.subject === nodeSubject(broken!) ? ['timeout', 'unresolved'] : ['unresolved'];
      assert.ok(expected.includes(String(finding.metrics?.reason)), `${finding.subject}: ${finding.summary}`);
    }
  }),

  scenario(FAULTS.podnetSplit, 'only the split pairs fail at L3', async (ctx) => {
    const { findings } = report(await ctx.netdiag(['check', '--skip-mtu', '-o', 'json']));
    const [a, b] = FAULTS.podnetSplit.args;
    assert.deepEqual(failingSubjects(findings, 'check.l3.pod-pod'), [pairSubject(a!, b!), pairSubject(b!, a!)].sort());
    assert.deepEqual(failingSubjects(findings, 'check.l3.pod-node'), []);
    assert.deepEqual(failingSubjects(findings, 'check.l4.podip'), [pairSubject(a!, b!), pairSubject(b!, a!)].sort());
    // Service probes from the two nodes fail when kube-proxy picks the echo pod across the split (a Service whose
    // backends are partly unreachable); nothing fails from the other node.
    for (const finding of findings.filter((f) => f.status === 'fail')) {
      const from = String(finding.metrics?.from);
      assert.ok(
        from === labNode(a!) || from === labNode(b!),
        `${finding.id} ${finding.subject} fails from a node outside the split`,
      );
    }
  }),

  scenario(FAULTS.egressBlock, 'only the blocked node’s outside probes fail', async (ctx) => {
    const { findings } = report(
      await ctx.netdiag([
        'check',
        '--skip-mtu',
        '--target',
        `${WORLD}:8080`,
        '--url',
        `http://${WORLD}/`,
        '--ping',
        WORLD,
        '-o',
        'json',
      ]),
    );
    const [blocked] = FAULTS.egressBlock.args;
    for (const id of ['check.external.tcp', 'check.external.http', 'check.external.ping']) {
      assert.deepEqual(failingSubjects(findings, id), [nodeSubject(blocked!)], id);
      for (const other of WORKERS.filter((worker) => worker !== blocked)) {
        assertReported(findings, { id, subject: nodeSubject(other), status: 'pass' });
      }
    }
    assertOnlyFailing(findings, ['check.external.tcp', 'check.external.http', 'check.external.ping']);
  }),

  scenario(
    { name: 'block', args: ['worker2', 'tcp/9000'] },
    'a blocked port fails TCP to the pods on that node, not ping',
    async (ctx) => {
      const { findings } = report(await ctx.netdiag(['check', '--skip-mtu', '-o', 'json']));
      for (const from of ['worker1', 'worker3']) {
        assertReported(findings, { id: 'check.l4.podip', subject: pairSubject(from, 'worker2'), status: 'fail' });
        assertReported(findings, { id: 'check.l3.pod-pod', subject: pairSubject(from, 'worker2'), status: 'pass' });
      }
      assertReported(findings, {
        id: 'check.l4.podip',
        subject: pairSubject('worker1', 'worker3'),
        status: 'pass',
      });
      const reasons = findings
        .filter((f) => f.id === 'check.l4.podip' && f.status === 'fail')
        .map((f) => f.metrics?.reason);
      assert.ok(
        reasons.every((reason) => reason === 'timeout'),
        `a DROP is a timeout: ${reasons.join(', ')}`,
      );
      for (const finding of findings.filter((f) => f.id === 'check.l4.podip' && f.status === 'fail')) {
        assert.ok(
          finding.subject.endsWith(`→${labNode('worker2')}`),
          `${finding.subject}: only TCP into worker2 is blocked`,
        );
      }
    },
  ),
];
