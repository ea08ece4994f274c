import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Node } from '../../../src/kube/client.js';
import { describeNode, pickNodes } from '../../../src/kube/nodes.js';
import { NetdiagError } from '../../../src/lib/errors.js';

const node = (name: string, options: { ready?: boolean; cordoned?: boolean; ip?: string } = {}): V1Node => ({
  metadata: { name },
  spec: { unschedulable: options.cordoned },
  status: {
    addresses: options.ip ? [{ type: 'InternalIP', address: options.ip }] : [],
    conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }],
  },
});
const LAB = [
  node('worker3.kube.local'),
  node('worker1.kube.local', { ip: '172.30.77.11' }),
  node('worker2.kube.local', { cordoned: true }),
  node('worker10.kube.local', { ready: false }),
];
const names = (picked: { name: string }[]) => picked.map((n) => n.name);
const exitCode = (code: number) => (err: unknown) => err instanceof NetdiagError && err.exitCode === code;

describe('node selection', () => {
  it('describes a node: name, InternalIP, Ready, cordoned', () => {
    assert.deepEqual(describeNode(LAB[1]!), {
      name: 'worker1.kube.local',
      internalIP: '172.30.77.11',
      ready: true,
      schedulable: true,
    });
    assert.deepEqual(describeNode({ metadata: { name: 'bare' } }), {
      name: 'bare',
      internalIP: undefined,
      ready: false,
      schedulable: true,
    });
  });
  it('defaults to every Ready, schedulable node, in natural name order', () => {
    assert.deepEqual(names(pickNodes(LAB, {})), ['worker1.kube.local', 'worker3.kube.local']);
  });
  it('takes named nodes as they are (cordoned or NotReady), by full or unique short name, once each', () => {
    assert.deepEqual(names(pickNodes(LAB, { names: ['worker10', 'worker2.kube.local', 'worker10.kube.local'] })), [
      'worker10.kube.local',
      'worker2.kube.local',
    ]);
  });
  it('rejects unknown and ambiguous names as bad input (exit 2), listing the known ones', () => {
    assert.throws(
      () => pickNodes(LAB, { names: ['worker1', 'nope'] }),
      (err: unknown) =>
        exitCode(2)(err) &&
        /node "nope" not found/.test((err as Error).message) &&
        /worker3\.kube\.local/.test((err as NetdiagError).fix ?? ''),
    );
    const twins = [node('a.x'), node('a.y')];
    assert.throws(() => pickNodes(twins, { names: ['a'] }), exitCode(2));
  });
  it('a selector that matches nothing is bad input; no usable node at all is an environment error', () => {
    assert.throws(() => pickNodes([], { labelSelector: 'pool=none' }), exitCode(2));
    assert.throws(() => pickNodes([node('x', { ready: false })], {}), exitCode(3));
  });
});
