/**
 * `kubectl netdiag dns` under the lab's DNS faults: each scenario runs the command like a user (`-o json`) while the
 * shared driver holds the fault, and asserts on finding ids, subjects and statuses — which hop, on which node.
 */
import assert from 'node:assert/strict';
import {
  assertNotReported,
  assertReported,
  FAULTS,
  nodeSubject,
  otherNodes,
  parseJson,
  type Fault,
  type FaultScenario,
  type Reported,
  type ScenarioContext,
} from './registry.js';

interface DnsJson {
  readonly findings: readonly (Reported & { readonly metrics?: Record<string, unknown> })[];
}

/** The lab's world zone: CoreDNS forwards to the world's resolver, which serves netdiag.test. */
const EXTERNAL = ['--external', 'www.netdiag.test'];

type DnsFindings = DnsJson['findings'];

/**
 * A `dns` scenario under `fault`: runs the command like a user and hands its findings to `expect`. `exit` is the exit
 * status it must end with: 1 (a problem found) unless said otherwise; null when the scenario does not assert it (not
 * undefined: an explicit undefined argument takes the default).
 */
function dnsScenario(
  fault: Fault,
  title: string,
  expect: (findings: DnsFindings, ctx: ScenarioContext) => void,
  exit: number | null = 1,
): FaultScenario {
  return {
    fault,
    command: 'dns',
    title,
    async run(ctx) {
      const run = await ctx.netdiag(['dns', '-o', 'json', '--queries', '3', ...EXTERNAL]);
      const { findings } = parseJson<DnsJson>(run);
      if (exit !== null) assert.equal(run.status, exit, run.stderr);
      expect(findings, ctx);
    },
  };
}

/** The finding with this id on this node (`node/<full name>`), if any. */
const onNode = (findings: DnsFindings, id: string, node: string) =>
  findings.find((f) => f.id === id && f.subject === `node/${node}`);

/**
 * A fault on one node (`faulted`, e.g. `worker2`): there, each id of `statuses` is reported with its status (in that order); on every
 * other node none of `failNowhereElse` fails.
 */
function assertOnOneNode(
  findings: DnsFindings,
  ctx: ScenarioContext,
  faulted: string,
  statuses: Readonly<Record<string, 'pass' | 'fail'>>,
  failNowhereElse: readonly string[],
): void {
  for (const [id, status] of Object.entries(statuses))
    assertReported(findings, { id, subject: nodeSubject(faulted), status });
  for (const node of otherNodes(ctx.nodes, faulted))
    for (const id of failNowhereElse) assertNotReported(findings, id, ['fail'], `node/${node}`);
}

export const scenarios: readonly FaultScenario[] = [
  dnsScenario(
    FAULTS.nodelocaldnsDown,
    'worker2 fails with the node-local cache as the cause, the other nodes pass, no wrong cause beside it',
    (findings, ctx) => {
      assertOnOneNode(
        findings,
        ctx,
        'worker2',
        { 'dns.cause.nodelocal': 'fail', 'dns.hop.nodelocal': 'fail', 'dns.hop.clusterip': 'pass' },
        ['dns.lookup.cluster', 'dns.hop.nodelocal', 'dns.cause.nodelocal'],
      );
      // Lookups that time out on the dead cache once read as the conntrack race (≈5 s waits).
      assertNotReported(findings, 'dns.client.conntrack-race', ['warn', 'fail']);
    },
  ),
  dnsScenario(FAULTS.corednsDown, 'every node fails with CoreDNS (no endpoints) as the cause', (findings, ctx) => {
    assertReported(findings, { id: 'dns.cause.coredns', subject: 'cluster', status: 'fail' });
    assertReported(findings, { id: 'dns.cluster.coredns', subject: 'cluster', status: 'fail' });
    for (const node of ctx.nodes) {
      assertReported(findings, { id: 'dns.cause.coredns', subject: `node/${node}`, status: 'fail' });
      assertReported(findings, { id: 'dns.hop.clusterip', subject: `node/${node}`, status: 'fail' });
    }
    assertNotReported(findings, 'dns.cause.nodelocal', ['fail']);
    assertNotReported(findings, 'dns.cause.kube-proxy', ['fail']);
  }),
  dnsScenario(
    FAULTS.upstreamDown,
    'cluster names pass, the upstream is named as the cause (even while caches still answer)',
    (findings, ctx) => {
      assertReported(findings, { id: 'dns.cause.upstream', subject: 'cluster', status: 'fail' });
      for (const node of ctx.nodes) {
        assertReported(findings, { id: 'dns.lookup.cluster', subject: `node/${node}`, status: 'pass' });
        // A lookup may still pass from the node-local cache (30 s) filled by an earlier run: the cause must say so.
        const lookup = onNode(findings, 'dns.lookup.external', node);
        const cause = onNode(findings, 'dns.cause.upstream', node);
        assert.equal(cause?.status, 'fail', JSON.stringify(cause));
        assert.equal(cause?.metrics?.cachedOnly, lookup?.status === 'pass', JSON.stringify({ lookup, cause }));
        assertReported(findings, { id: 'dns.hop.upstream', subject: `node/${node}`, status: 'fail' });
        assertReported(findings, { id: 'dns.hop.clusterip', subject: `node/${node}`, status: 'pass' });
      }
      assertNotReported(findings, 'dns.cause.coredns', ['fail']);
    },
  ),
  dnsScenario(
    FAULTS.corednsSlow,
    'latency findings name CoreDNS (the ClusterIP and the pods are slow)',
    (findings, ctx) => {
      for (const node of ctx.nodes) {
        assertReported(findings, { id: 'dns.latency', subject: `node/${node}`, status: 'warn' });
        assertReported(findings, { id: 'dns.cause.slow', subject: `node/${node}`, status: 'warn' });
        const slow = onNode(findings, 'dns.cause.slow', node);
        assert.equal(slow?.metrics?.slow, 'coredns', JSON.stringify(slow));
        assert.match(String(onNode(findings, 'dns.latency', node)?.metrics?.slow), /CoreDNS pods/);
      }
    },
    // Slow answers are warnings: this scenario asserts the latency findings, not the exit status.
    null,
  ),
  dnsScenario(
    FAULTS.kubeProxyBroken,
    'the ClusterIP hop fails on worker3 while the CoreDNS pod IPs answer there',
    (findings, ctx) =>
      assertOnOneNode(
        findings,
        ctx,
        'worker3',
        { 'dns.hop.clusterip': 'fail', 'dns.hop.coredns-pod': 'pass', 'dns.cause.kube-proxy': 'fail' },
        ['dns.hop.clusterip'],
      ),
  ),
];
