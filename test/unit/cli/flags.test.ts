import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kubeAccessFromFlags, nodeSelectionFromFlags } from '../../../src/cli/flags.js';
import type { NodeSelection } from '../../../src/kube/nodes.js';
import { NetdiagError } from '../../../src/lib/errors.js';

describe('global flags → KubeAccessOptions', () => {
  it('passes names through and parses --request-timeout', () => {
    assert.deepEqual(
      kubeAccessFromFlags({
        kubeconfig: '/k',
        context: 'c',
        cluster: 'cl',
        user: 'u',
        namespace: 'ns',
        'request-timeout': '2m',
      }),
      { kubeconfig: '/k', context: 'c', cluster: 'cl', user: 'u', namespace: 'ns', requestTimeoutMs: 120_000 },
    );
  });
  it('rejects a bad --request-timeout as bad input (exit 2)', () => {
    assert.throws(
      () =>
        kubeAccessFromFlags({
          kubeconfig: undefined,
          context: undefined,
          cluster: undefined,
          user: undefined,
          namespace: undefined,
          'request-timeout': 'soon',
        }),
      (err: unknown) => err instanceof NetdiagError && err.exitCode === 2,
    );
  });
});

describe('node selection flags → NodeSelection', () => {
  const usage = (err: unknown) => err instanceof NetdiagError && err.exitCode === 2;
  const cases: { flags: { nodes?: string; 'node-selector'?: string }; want: NodeSelection }[] = [
    { flags: {}, want: {} },
    { flags: { nodes: 'worker1,worker2.kube.local' }, want: { names: ['worker1', 'worker2.kube.local'] } },
    { flags: { nodes: ' worker1 , worker2 ' }, want: { names: ['worker1', 'worker2'] } },
    { flags: { 'node-selector': 'pool=a' }, want: { labelSelector: 'pool=a' } },
  ];
  for (const { flags, want } of cases) {
    it(`${JSON.stringify(flags)} → ${JSON.stringify(want)}`, () => {
      assert.deepEqual(nodeSelectionFromFlags({ nodes: undefined, 'node-selector': undefined, ...flags }), want);
    });
  }
  it('rejects empty names and an empty selector as bad input', () => {
    assert.throws(() => nodeSelectionFromFlags({ nodes: 'a,,b', 'node-selector': undefined }), usage);
    assert.throws(() => nodeSelectionFromFlags({ nodes: undefined, 'node-selector': ' ' }), usage);
  });
});
