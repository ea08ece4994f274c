import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kubeAccessFromFlags } from '../../../src/lib/command.js';
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
