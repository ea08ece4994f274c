import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1DaemonSet, V1Node, V1Pod } from '../../../src/kube/client.js';
import {
  assessAutoscaler,
  clusterDnsService,
  clusterDomainFromSearch,
  clusterSize,
  corednsDeployment,
  cpuMillicores,
  daemonSetLocalIPs,
  isNodeLocalDaemonSet,
  nodeLocalAddress,
  nodesWithoutReadyPod,
  readyEndpoints,
  upstreamAddresses,
} from '../../../src/dns/discover.js';
import { expectedReplicas, parseAutoscalerParams, type AutoscalerParams } from '../../../src/dns/parse.js';

describe('cluster domain from the search list', () => {
  const cases: [string[], string, string | undefined][] = [
    [['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], 'default', 'cluster.local'],
    [['netdiag-x.svc.k8s.example.com', 'svc.k8s.example.com'], 'netdiag-x', 'k8s.example.com'],
    [['svc.cluster.local', 'cluster.local'], 'default', 'cluster.local'],
    [['corp.example.com'], 'default', undefined],
  ];
  for (const [search, namespace, expected] of cases)
    it(`${search.join(' ')} (${namespace}) → ${expected}`, () =>
      assert.equal(clusterDomainFromSearch(search, namespace), expected));
});

describe('upstream addresses of a forward', () => {
  const cases: [string[], string[]][] = [
    [['172.30.78.1'], ['172.30.78.1']],
    [
      ['dns://8.8.8.8:53', '1.1.1.1'],
      ['8.8.8.8', '1.1.1.1'],
    ],
    [['/etc/resolv.conf'], []],
    [['tls://1.1.1.1'], []],
    [['10.0.0.2:5353'], []],
    [
      ['[2001:db8::1]:53', '2001:db8::2'],
      ['2001:db8::1', '2001:db8::2'],
    ],
  ];
  for (const [forward, expected] of cases)
    it(`${forward.join(' ')} → ${expected.join(' ') || 'none'}`, () =>
      assert.deepEqual(upstreamAddresses(forward), expected));
});

const daemonSet = (
  name: string,
  args: string[] = [],
  image = 'registry.k8s.io/coredns/coredns:v1.14.7',
): V1DaemonSet => ({
  metadata: { name, labels: { 'k8s-app': name } },
  spec: {
    selector: { matchLabels: { 'k8s-app': name } },
    template: { metadata: { labels: { 'k8s-app': name } }, spec: { containers: [{ name: 'c', image, args }] } },
  },
});

describe('node-local DNS discovery', () => {
  it('recognises kubespray’s nodelocaldns, the node-cache addon, not kube-proxy', () => {
    assert.equal(isNodeLocalDaemonSet(daemonSet('nodelocaldns')), true);
    assert.equal(isNodeLocalDaemonSet(daemonSet('node-local-dns')), true);
    assert.equal(
      isNodeLocalDaemonSet(
        daemonSet('dns-cache', ['-localip', '169.254.20.10'], 'registry.k8s.io/dns/k8s-dns-node-cache:1.23.1'),
      ),
      true,
    );
    assert.equal(isNodeLocalDaemonSet(daemonSet('kube-proxy', ['--v=2'], 'registry.k8s.io/kube-proxy:v1.34.4')), false);
  });
  it('reads -localip in both spellings', () => {
    assert.deepEqual(daemonSetLocalIPs(daemonSet('n', ['-localip', '169.254.20.10,10.96.0.10'])), [
      '169.254.20.10',
      '10.96.0.10',
    ]);
    assert.deepEqual(daemonSetLocalIPs(daemonSet('n', ['-localip=169.254.20.10'])), ['169.254.20.10']);
  });
  const corefile = {
    zones: ['.'],
    forward: [],
    kubernetesZones: [],
    podsMode: undefined,
    loop: true,
    errors: true,
    cache: undefined,
    bind: ['169.254.25.10'],
  };
  it('the pods’ nameserver is the cache, confirmed by the DaemonSet’s Corefile (the lab)', () =>
    assert.deepEqual(nodeLocalAddress('169.254.25.10', '10.233.0.10', daemonSet('nodelocaldns'), corefile), {
      address: '169.254.25.10',
      source: "pods' resolv.conf, confirmed by daemonset nodelocaldns",
    }));
  it('pods using kube-dns while a cache DaemonSet runs: the cache is found from the DaemonSet', () =>
    assert.deepEqual(
      nodeLocalAddress(
        '10.96.0.10',
        '10.96.0.10',
        daemonSet('node-local-dns', ['-localip', '169.254.20.10,10.96.0.10']),
        undefined,
      ),
      { address: '169.254.20.10', source: 'daemonset kube-system/node-local-dns' },
    ));
  it('no cache anywhere', () =>
    assert.equal(nodeLocalAddress('10.96.0.10', '10.96.0.10', undefined, undefined), undefined));
  it('nodes whose cache pod is not Ready', () => {
    const pod = (node: string, ready: boolean): V1Pod => ({
      spec: { nodeName: node, containers: [] },
      status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
    });
    assert.deepEqual(nodesWithoutReadyPod([pod('w1', true), pod('w2', false)], ['w1', 'w2', 'w3']), ['w2', 'w3']);
  });
});

describe('the cluster DNS Service', () => {
  const service = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels } });
  it('kube-dns by name, else by the k8s-app=kube-dns label (RKE2), else none', () => {
    assert.equal(clusterDnsService([service('metrics'), service('kube-dns')])?.metadata?.name, 'kube-dns');
    assert.equal(
      clusterDnsService([service('metrics'), service('rke2-coredns-rke2-coredns', { 'k8s-app': 'kube-dns' })])?.metadata
        ?.name,
      'rke2-coredns-rke2-coredns',
    );
    assert.equal(clusterDnsService([service('metrics')]), undefined);
  });
});

describe('endpoints and deployments', () => {
  it('ready endpoint addresses, deduplicated', () =>
    assert.deepEqual(
      readyEndpoints([
        {
          addressType: 'IPv4',
          endpoints: [
            { addresses: ['10.233.65.2'], conditions: { ready: true } },
            { addresses: ['10.233.64.2'], conditions: { ready: false } },
            { addresses: ['10.233.66.2'] },
          ],
        },
        { addressType: 'IPv4', endpoints: [{ addresses: ['10.233.65.2'], conditions: { ready: true } }] },
      ]),
      ['10.233.65.2', '10.233.66.2'],
    ));
  it('the CoreDNS Deployment by its pods’ ReplicaSet', () => {
    const deployments = [
      { metadata: { name: 'coredns' } },
      { metadata: { name: 'dns' }, spec: { replicas: 3, selector: {}, template: {} } },
    ];
    const pods: V1Pod[] = [
      { metadata: { ownerReferences: [{ kind: 'ReplicaSet', name: 'dns-5f8b9', apiVersion: 'apps/v1', uid: 'u' }] } },
    ];
    assert.equal(corednsDeployment(deployments, pods)?.metadata?.name, 'dns');
    assert.equal(corednsDeployment(deployments, [])?.metadata?.name, 'coredns');
  });
});

describe('DNS autoscaler (cluster-proportional-autoscaler)', () => {
  const linear = (overrides: Record<string, unknown>) =>
    parseAutoscalerParams({ linear: JSON.stringify(overrides) }) as AutoscalerParams;
  const cases: [string, AutoscalerParams, number, number, number][] = [
    // kubespray's defaults: coresPerReplica 256, nodesPerReplica 16, min 2, preventSinglePointFailure.
    [
      'kubespray defaults, 3 nodes',
      linear({ coresPerReplica: 256, nodesPerReplica: 16, min: 2, preventSinglePointFailure: true }),
      3,
      6,
      2,
    ],
    ['by nodes', linear({ nodesPerReplica: 4 }), 10, 20, 3],
    ['by cores', linear({ coresPerReplica: 8, nodesPerReplica: 16 }), 3, 48, 6],
    ['max caps', linear({ coresPerReplica: 1, max: 5 }), 3, 48, 5],
    ['min lifts, default min 1', linear({ nodesPerReplica: 100 }), 3, 6, 1],
    ['single point of failure prevented', linear({ nodesPerReplica: 100, preventSinglePointFailure: true }), 3, 6, 2],
    ['… but not on one node', linear({ nodesPerReplica: 100, preventSinglePointFailure: true }), 1, 2, 1],
    [
      'ladder',
      parseAutoscalerParams({
        ladder: JSON.stringify({
          coresToReplicas: [
            [1, 1],
            [64, 3],
            [512, 5],
          ],
          nodesToReplicas: [
            [1, 1],
            [2, 2],
          ],
        }),
      }) as AutoscalerParams,
      3,
      70,
      3,
    ],
    [
      'ladder below its first step',
      parseAutoscalerParams({
        ladder: JSON.stringify({
          nodesToReplicas: [
            [4, 2],
            [8, 3],
          ],
        }),
      }) as AutoscalerParams,
      2,
      2,
      2,
    ],
  ];
  for (const [title, params, nodes, cores, expected] of cases)
    it(`${title}: ${nodes} nodes, ${cores} cores → ${expected}`, () =>
      assert.equal(expectedReplicas(params, nodes, cores), expected));
  it('unparseable parameters are undefined', () =>
    assert.equal(parseAutoscalerParams({ linear: '{ nope' }), undefined));

  const node = (cpu: string, unschedulable = false): V1Node => ({
    spec: { unschedulable },
    status: { allocatable: { cpu } },
  });
  it('counts schedulable nodes and allocatable cores (cordoned ones only when asked)', () => {
    const nodes = [node('2'), node('1500m'), node('4', true)];
    assert.deepEqual(clusterSize(nodes, false), { nodes: 2, cores: 3 });
    assert.deepEqual(clusterSize(nodes, true), { nodes: 3, cores: 7 });
  });
  it('cpu quantities', () => assert.deepEqual(['2', '1500m', '0.5', 'x'].map(cpuMillicores), [2000, 1500, 500, 0]));
  it('expected vs actual', () => {
    const facts = assessAutoscaler(
      { name: 'dns-autoscaler', data: { linear: '{"coresPerReplica":256,"nodesPerReplica":16,"min":2}' } },
      [node('2'), node('2'), node('2')],
      3,
    );
    assert.deepEqual([facts.nodes, facts.cores, facts.expected, facts.actual], [3, 6, 2, 3]);
  });
});
