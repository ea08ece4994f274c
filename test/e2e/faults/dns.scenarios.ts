/**
 * `kubectl netdiag dns` under the lab's DNS faults: each scenario runs the command like a user (`-o json`) while the
 * shared driver holds the fault, and asserts on finding ids, subjects and statuses — which hop, on which node.
 */
import assert from 'node:assert/strict';
import {
  assertNotReported,
  assertReported,
  FAULTS,
  labNode,
  nodeSubject,
  parseJson,
  type FaultScenario,
  type Reported,
  type ScenarioContext,
} from './registry.js';

interface DnsJson {
  readonly findings: readonly (Reported & { readonly metrics?: Record<string, unknown> })[];
}

/** The lab's world zone: CoreDNS forwards to the world's resolver, which serves netdiag.test. */
const EXTERNAL = ['--external', 'www.netdiag.test'];

async function dns(
  ctx: ScenarioContext,
  args: readonly string[] = [],
): Promise<{ status: number | null; json: DnsJson }> {
  const run = await ctx.netdiag(['dns', '-o', 'json', '--queries', '3', ...EXTERNAL, ...args]);
  return { status: run.status, json: parseJson<DnsJson>(run) };
}

const others = (ctx: ScenarioContext, faulted: string) => ctx.nodes.filter((node) => node !== labNode(faulted));

export const scenarios: readonly FaultScenario[] = [
  {
    fault: FAULTS.nodelocaldnsDown,
    command: 'dns',
    title: 'worker2 fails with the node-local cache as the cause, the other nodes pass',
    async run(ctx) {
      const { status, json } = await dns(ctx);
      assert.equal(status, 1);
      assertReported(json.findings, { id: 'dns.cause.nodelocal', subject: nodeSubject('worker2'), status: 'fail' });
      assertReported(json.findings, { id: 'dns.hop.nodelocal', subject: nodeSubject('worker2'), status: 'fail' });
      assertReported(json.findings, { id: 'dns.hop.clusterip', subject: nodeSubject('worker2'), status: 'pass' });
      for (const node of others(ctx, 'worker2'))
        for (const id of ['dns.lookup.cluster', 'dns.hop.nodelocal', 'dns.cause.nodelocal'])
          assertNotReported(json.findings, id, ['fail'], `node/${node}`);
    },
  },
  {
    fault: FAULTS.corednsDown,
    command: 'dns',
    title: 'every node fails with CoreDNS (no endpoints) as the cause',
    async run(ctx) {
      const { status, json } = await dns(ctx);
      assert.equal(status, 1);
      assertReported(json.findings, { id: 'dns.cause.coredns', subject: 'cluster', status: 'fail' });
      assertReported(json.findings, { id: 'dns.cluster.coredns', subject: 'cluster', status: 'fail' });
      for (const node of ctx.nodes) {
        assertReported(json.findings, { id: 'dns.cause.coredns', subject: `node/${node}`, status: 'fail' });
        assertReported(json.findings, { id: 'dns.hop.clusterip', subject: `node/${node}`, status: 'fail' });
      }
      assertNotReported(json.findings, 'dns.cause.nodelocal', ['fail']);
      assertNotReported(json.findings, 'dns.cause.kube-proxy', ['fail']);
    },
  },
  {
    fault: FAULTS.upstreamDown,
    command: 'dns',
    title: 'cluster names pass, the upstream is named as the cause (even while caches still answer)',
    async run(ctx) {
      const { status, json } = await dns(ctx);
      assert.equal(status, 1);
      assertReported(json.findings, { id: 'dns.cause.upstream', subject: 'cluster', status: 'fail' });
      for (const node of ctx.nodes) {
        assertReported(json.findings, { id: 'dns.lookup.cluster', subject: `node/${node}`, status: 'pass' });
        // A lookup may still pass from the node-local cache (30 s) filled by an earlier run: the cause must say so.
        const lookup = json.findings.find((f) => f.id === 'dns.lookup.external' && f.subject === `node/${node}`);
        const cause = json.findings.find((f) => f.id === 'dns.cause.upstream' && f.subject === `node/${node}`);
        assert.equal(cause?.status, 'fail', JSON.stringify(cause));
        assert.equal(cause?.metrics?.cachedOnly, lookup?.status === 'pass', JSON.stringify({ lookup, cause }));
        assertReported(json.findings, { id: 'dns.hop.upstream', subject: `node/${node}`, status: 'fail' });
        assertReported(json.findings, { id: 'dns.hop.clusterip', subject: `node/${node}`, status: 'pass' });
      }
      assertNotReported(json.findings, 'dns.cause.coredns', ['fail']);
    },
  },
  {
    fault: FAULTS.corednsSlow,
    command: 'dns',
    title: 'latency findings name CoreDNS (the ClusterIP and the pods are slow)',
    async run(ctx) {
      const { json } = await dns(ctx);
      for (const node of ctx.nodes) {
        assertReported(json.findings, { id: 'dns.latency', subject: `node/${node}`, status: 'warn' });
        assertReported(json.findings, { id: 'dns.cause.slow', subject: `node/${node}`, status: 'warn' });
        const slow = json.findings.find((f) => f.id === 'dns.cause.slow' && f.subject === `node/${node}`);
        assert.equal(slow?.metrics?.slow, 'coredns', JSON.stringify(slow));
        const latency = json.findings.find((f) => f.id === 'dns.latency' && f.subject === `node/${node}`);
        assert.match(String(latency?.metrics?.slow), /CoreDNS pods/);
      }
    },
  },
  {
    fault: FAULTS.kubeProxyBroken,
    command: 'dns',
    title: 'the ClusterIP hop fails on worker3 while the CoreDNS pod IPs answer there',
    async run(ctx) {
      const { status, json } = await dns(ctx);
      assert.equal(status, 1);
      assertReported(json.findings, { id: 'dns.hop.clusterip', subject: nodeSubject('worker3'), status: 'fail' });
      assertReported(json.findings, { id: 'dns.hop.coredns-pod', subject: nodeSubject('worker3'), status: 'pass' });
      assertReported(json.findings, { id: 'dns.cause.kube-proxy', subject: nodeSubject('worker3'), status: 'fail' });
      for (const node of others(ctx, 'worker3'))
        assertNotReported(json.findings, 'dns.hop.clusterip', ['fail'], `node/${node}`);
    },
  },
];
