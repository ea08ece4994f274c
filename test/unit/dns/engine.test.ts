import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DnsData, pathResolvers, planFor, podDnsName } from '../../../src/dns/engine.js';
import { DEFAULT_DNS_OPTIONS } from '../../../src/dns/options.js';
import { dnsNodeTable } from '../../../src/dns/render.js';
import type { DiagnosticResult } from '../../../src/findings/model.js';
import { assertMatchesSchema } from '../../schema.js';
import { clusterFacts, COREDNS } from './builders.js';

describe('the path and the plan from what was discovered', () => {
  it('resolvers in path order: node cache, ClusterIP, each CoreDNS pod, the upstream', () =>
    assert.deepEqual(
      pathResolvers(clusterFacts()).map((r) => `${r.role} ${r.address}`),
      [
        'nodelocal 169.254.25.10',
        'clusterip 10.233.0.10',
        'coredns-pod 10.233.64.3',
        'coredns-pod 10.233.65.4',
        'upstream 172.30.78.53',
      ],
    ));
  it('no node cache, a pod without an address, forward to resolv.conf: fewer hops', () =>
    assert.deepEqual(
      pathResolvers(
        clusterFacts({
          nodeLocal: undefined,
          coredns: { pods: [COREDNS[0]!, { ...COREDNS[1]!, ip: '' }], endpoints: [], desired: 2 },
          corefile: { ...clusterFacts().corefile!, forward: ['/etc/resolv.conf'] },
        }),
      ).map((r) => r.role),
      ['clusterip', 'coredns-pod'],
    ));
  it('a pod’s own DNS name', () => {
    assert.equal(podDnsName('10.233.64.9', 'shop', 'cluster.local'), '10-233-64-9.shop.pod.cluster.local');
    assert.equal(podDnsName('fd00::9', 'shop', 'k8s.example'), 'fd00--9.shop.pod.k8s.example');
  });
  it('the lookups: kubernetes.default, kube-dns, the pod name, --name, the default external name', () => {
    const plan = planFor(
      { podIP: '10.233.64.9', namespace: 'shop' },
      clusterFacts(),
      { ...DEFAULT_DNS_OPTIONS, names: ['web.shop'] },
      'netdiag-1f',
    );
    assert.deepEqual(
      plan.lookups.map((l) => [l.name, l.kind, l.expected.join(','), l.isDefault]),
      [
        ['kubernetes.default', 'cluster', '10.233.0.1', false],
        ['kube-dns.kube-system', 'cluster', '10.233.0.10', false],
        ['10-233-64-9.shop.pod.cluster.local', 'pod', '10.233.64.9', false],
        ['web.shop', 'name', '', false],
        ['kubernetes.io', 'external', '', true],
      ],
    );
    assert.ok(plan.jobs.every((job) => job.scope !== 'cluster' || job.name === 'kubernetes.default.svc.cluster.local'));
    assert.deepEqual(
      plan.jobs.filter((job) => job.scope === 'uncached').map((job) => `${job.resolver.label} ${job.name}`),
      clusterFacts().coredns.pods.map((pod) => `${pod.name} netdiag-1f.io`),
    );
  });
});

describe('the node table', () => {
  const result: DiagnosticResult<DnsData> = {
    command: 'dns',
    data: {
      discovery: {
        domain: 'cluster.local',
        kubernetesIP: '10.233.0.1',
        kubeDnsIP: '10.233.0.10',
        nodeLocal: { address: '169.254.25.10', source: "pods' resolv.conf" },
        corednsPods: COREDNS,
        forward: ['172.30.78.53'],
        upstream: ['172.30.78.53'],
      },
      nodes: [
        {
          node: 'worker2.kube.local',
          pod: 'p',
          nameserver: '169.254.25.10',
          findings: [
            {
              id: 'dns.lookup.cluster',
              subject: 'node/worker2.kube.local',
              status: 'fail',
              summary: 's',
              evidence: [],
            },
            { id: 'dns.hop.clusterip', subject: 'node/worker2.kube.local', status: 'pass', summary: 's', evidence: [] },
          ],
        },
      ],
      resolvers: [
        {
          node: 'worker2.kube.local',
          role: 'nodelocal',
          address: '169.254.25.10',
          label: 'node-local cache',
          protocol: 'udp',
          queries: 3,
          answered: 3,
          unanswered: 0,
          medianMs: 1,
          p95Ms: 4,
        },
      ],
      cluster: [],
      propagation: {
        service: 'default/x',
        name: 'x.default.svc.cluster.local',
        clusterIP: '10.233.1.1',
        nodes: [{ node: 'worker2.kube.local', resolvedAfterMs: 1200, attempts: 3 }],
      },
      capture: null,
    },
    findings: [],
    unavailable: [{ node: 'worker3.kube.local', profile: 'pod-probe', reason: 'image pull failed' }],
  };
  const table = dnsNodeTable(result, { wide: false });
  it('says what was discovered', () =>
    assert.match(
      table,
      /^cluster domain cluster\.local, kube-dns 10\.233\.0\.10, node cache 169\.254\.25\.10, 2 CoreDNS pods, upstream 172\.30\.78\.53/,
    ));
  it('one line per node: hop states in path order, latency of the first resolver', () =>
    assert.match(table, /worker2\.kube\.local\s+169\.254\.25\.10\s+fail\s+-\s+-\s+ok\s+-\s+-\s+1\/4 ms/));
  it('the result matches docs/schema/dns.schema.json (so does real output: test/e2e/dns.test.ts)', () =>
    assertMatchesSchema('dns', JSON.parse(JSON.stringify(result))));
  it("the latency is the pods' nameserver's: '-' when it did not answer, '<1' below dig's millisecond", () => {
    const resolver = result.data.resolvers[0];
    assert.ok(resolver);
    const withResolvers = (resolvers: DnsData['resolvers']): string =>
      dnsNodeTable({ ...result, data: { ...result.data, resolvers } }, { wide: false });
    const clusterip = { ...resolver, role: 'clusterip' as const, address: '10.233.0.10', medianMs: 0, p95Ms: 3 };
    const unanswered = { ...resolver, answered: 0, unanswered: 3, medianMs: undefined, p95Ms: undefined };
    assert.match(withResolvers([unanswered, clusterip]), /worker2\.kube\.local\s+169\.254\.25\.10\s+.*\s-$/m);
    assert.match(withResolvers([{ ...resolver, medianMs: 0, p95Ms: 0 }]), /<1\/<1 ms$/m);
  });
  it('unavailable nodes and the propagation times', () => {
    assert.match(table, /worker3\.kube\.local\s+unavailable: image pull failed/);
    assert.match(table, /resolvable after: worker2\.kube\.local 1\.2 s/);
  });
});
