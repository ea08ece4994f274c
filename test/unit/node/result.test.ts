import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderResult } from '../../../src/findings/render/index.js';
import type { ExpectedServicePort } from '../../../src/node/checks.js';
import { expectedServicePorts, nodeResult } from '../../../src/node/engine.js';
import { fleetTable, nodeView, shortNames } from '../../../src/node/view.js';
import { assertMatchesSchema, schemaErrors } from '../../schema.js';
import { labFacts } from './fixtures.js';
import type { V1Service } from '../../../src/kube/client.js';

const services: ExpectedServicePort[] = [
  'default/kubernetes:https',
  'kube-system/kube-dns:dns',
  'kube-system/kube-dns:dns-tcp',
  'kube-system/kube-dns:metrics',
].map((key) => ({ key, clusterIPs: ['10.233.0.1'], settled: true }));
const w1 = labFacts(1);
const w2 = labFacts(2);
const w3 = {
  facts: {
    ...labFacts(2).facts,
    node: 'worker3.kube.local',
    network: { ...w2.facts.network, underlay: { device: 'eth0', mtu: 1400, address: '172.30.77.13' }, maxPodMtu: 1400 },
  },
  inspected: w2.inspected,
};
const result = nodeResult(
  [w1, w2, w3].map((n) => ({ facts: n.facts, sections: n.inspected })),
  services,
  [],
  {
    namespace: 'kube-system',
    name: 'nodelocaldns-gj7bb',
    node: 'worker1.kube.local',
    containers: [
      {
        name: 'node-cache',
        id: 'd8d9a8de4068a5fc',
        inspect: { pid: 4242, namespaces: [{ type: 'network', path: '/proc/4242/ns/net' }] },
      },
    ],
  },
);

describe('the node result', () => {
  it('matches docs/schema/node.schema.json, also after a JSON round trip', () => {
    assertMatchesSchema('node', result);
    assertMatchesSchema('node', JSON.parse(JSON.stringify(result)));
    assert.notDeepEqual(
      schemaErrors('node', { ...result, findings: [{ ...result.findings[0], id: 'node.unknown' }] }),
      [],
    );
    assert.notDeepEqual(schemaErrors('node', { ...result, data: { ...result.data, extra: 1 } }), []);
  });
  it('names the odd node and its MTU failure', () => {
    const failing = result.findings.filter((f) => f.status !== 'pass').map((f) => `${f.status} ${f.id} ${f.subject}`);
    assert.deepEqual(failing.sort(), [
      'fail node.interface.mtu node/worker3.kube.local',
      'warn node.odd-one-out node/worker3.kube.local',
    ]);
  });
  it('shows the facts side by side in every human format', () => {
    const table = renderResult('table', result, nodeView);
    assert.match(table, /^FACT +WORKER1 +WORKER2 +WORKER3$/m);
    assert.match(table, /^underlay MTU +1500 +1500 +1400 \*$/m);
    assert.match(table, /^\* differs from the other nodes$/m);
    assert.match(table, /node-cache {2}d8d9a8de4068a {2}pid 4242 {2}netns \/proc\/4242\/ns\/net/);
    const html = renderResult('html', result, nodeView);
    assert.match(html, /<h2[^>]*>Nodes side by side<\/h2>/);
    assert.match(
      html,
      /<td style="color:#fff;background:#ef8f00" title="differs from the other nodes \(1500\)">1400<\/td>/,
    );
    assert.match(html, /Pod kube-system\/nodelocaldns-gj7bb/);
  });
  it('short column names only when they stay unique', () => {
    assert.deepEqual([...shortNames(['a.x', 'b.x']).values()], ['a', 'b']);
    assert.deepEqual([...shortNames(['a.x', 'a.y']).values()], ['a.x', 'a.y']);
    assert.equal(fleetTable([], [], false), 'FACT\n');
  });
});

describe('expectedServicePorts', () => {
  const service = (
    name: string,
    created: string,
    spec: V1Service['spec'],
    labels?: Record<string, string>,
  ): V1Service => ({
    metadata: { namespace: 'ns', name, creationTimestamp: new Date(created), labels },
    spec,
  });
  const readAt = Date.parse('2026-12-02T12:00:10Z');
  const old = '2026-12-02T11:00:00Z';
  it('every port of every Service kube-proxy programs, settled when old and in both lists', () => {
    const web = service('web', old, {
      clusterIP: '10.0.0.5',
      ports: [
        { name: 'http', port: 80 },
        { name: 'https', port: 443 },
      ],
    });
    const unnamed = service('one', old, { clusterIP: '10.0.0.6', ports: [{ port: 80 }] });
    const young = service('young', '2026-12-02T12:00:08Z', { clusterIP: '10.0.0.7', ports: [{ port: 80 }] });
    const headless = service('headless', old, { clusterIP: 'None', ports: [{ port: 80 }] });
    const external = service('ext', old, { type: 'ExternalName', externalName: 'x.example' });
    const other = service(
      'other',
      old,
      { clusterIP: '10.0.0.8', ports: [{ port: 80 }] },
      { 'service.kubernetes.io/service-proxy-name': 'x' },
    );
    const gone = service('gone', old, { clusterIP: '10.0.0.9', ports: [{ port: 80 }] });
    const ports = expectedServicePorts(
      [web, unnamed, young, headless, external, other, gone],
      [web, unnamed, young, headless, external, other],
      readAt,
      5000,
    );
    assert.deepEqual(
      ports.map((p) => [p.key, p.settled]),
      [
        ['ns/web:http', true],
        ['ns/web:https', true],
        ['ns/one', true],
        ['ns/young', false],
        ['ns/gone', false],
      ],
    );
  });
});
