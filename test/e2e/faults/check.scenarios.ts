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
  pairSubject,
  parseJson,
  type CliRun,
  type Fault,
  type FaultScenario,
} from './registry.js';

interface CheckReport {
  readonly findings: readonly Finding[];
}

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
