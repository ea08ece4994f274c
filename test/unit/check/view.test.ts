import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckData } from '../../../src/check/engine.js';
import { matricesHtml, matricesText } from '../../../src/check/view.js';

const nodes = ['worker1.kube.local', 'worker2.kube.local'];
const data: CheckData = {
  service: {
    namespace: 'ns',
    name: 'netdiag-check-ab',
    clusterIP: '10.233.1.2',
    echoNodePort: 31000,
    dnsName: 'netdiag-check-ab.ns.svc',
  },
  nodes,
  coverage: { pairsChecked: 2, pairsTotal: 2 },
  podMtu: { 'worker1.kube.local': 1500, 'worker2.kube.local': 1500 },
  probes: [
    { id: 'check.l3.pod-pod', layer: 'L3', from: nodes[0]!, to: nodes[1]!, target: 'x', ok: true, attempts: 1 },
    {
      id: 'check.l3.pod-pod',
      layer: 'L3',
      from: nodes[1]!,
      to: nodes[0]!,
      target: 'x',
      ok: false,
      reason: 'timeout',
      attempts: 1,
    },
    { id: 'check.l4.clusterip', layer: 'L4', from: nodes[0]!, target: 'clusterip/tcp', ok: true, attempts: 1 },
    {
      id: 'check.l4.clusterip',
      layer: 'L4',
      from: nodes[1]!,
      target: 'clusterip/tcp',
      ok: false,
      reason: 'refused',
      attempts: 2,
    },
  ],
  mtu: [{ from: nodes[0]!, to: nodes[1]!, fromMtu: 1500, toMtu: 1500, largestPassing: 1372, searched: [1400] }],
};

describe('check matrices', () => {
  it('shows each pair check from×to and the Service path per node, with short names and reasons', () => {
    assert.equal(
      matricesText(data, false),
      [
        'L3 ping pod→pod',
        'FROM \\ TO   WORKER1   WORKER2',
        'worker1     ·         ok',
        'worker2     timeout   ·',
        '',
        'MTU DF ping at the pod MTU',
        'FROM \\ TO   WORKER1   WORKER2',
        'worker1     ·         max 1372',
        'worker2     ·         ·',
        '',
        'Service path and outside targets, per node',
        'NODE      CLUSTERIP/TCP',
        'worker1   ok',
        'worker2   refused',
        '',
      ].join('\n'),
    );
  });
  it('renders the same grids as HTML tables with coloured cells', () => {
    const sections = matricesHtml(data);
    assert.deepEqual(
      sections.map((section) => section.title),
      ['L3 ping pod→pod', 'MTU DF ping at the pod MTU', 'Service path and outside targets, per node'],
    );
    assert.match(
      sections[0]?.html ?? '',
      /<th>worker2<\/th><td style="color:#fff;background:#c62828">timeout<\/td><td>·<\/td>/,
    );
  });
});
