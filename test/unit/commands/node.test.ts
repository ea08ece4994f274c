import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePodRef, toOptions, withNodeArgs } from '../../../src/commands/node.js';
import { NetdiagError } from '../../../src/lib/errors.js';

const usage = (err: unknown) => err instanceof NetdiagError && err.exitCode === 2;

describe('node command options', () => {
  it('--pod takes NAMESPACE/NAME, or NAME in the current namespace', () => {
    assert.deepEqual(parsePodRef('kube-system/coredns-x', 'default'), { namespace: 'kube-system', name: 'coredns-x' });
    assert.deepEqual(parsePodRef('web-1', 'shop'), { namespace: 'shop', name: 'web-1' });
    for (const bad of ['a/b/c', '/name', 'ns/', '']) assert.throws(() => parsePodRef(bad, 'default'), usage, bad);
  });
  it('--pod reaches the engine', () => {
    assert.deepEqual(toOptions({ pod: 'a/b' }, 'default').pod, { namespace: 'a', name: 'b' });
    assert.equal(toOptions({}, 'default').pod, undefined);
  });
  it('NODE arguments are --nodes; both at once is a usage error', () => {
    const none = { nodes: undefined, 'node-selector': undefined };
    assert.deepEqual(withNodeArgs(none, []), none);
    assert.equal(withNodeArgs(none, ['worker1', 'worker2']).nodes, 'worker1,worker2');
    assert.throws(() => withNodeArgs({ ...none, nodes: 'worker1' }, ['worker2']), usage);
    assert.throws(() => withNodeArgs({ ...none, 'node-selector': 'a=b' }, ['worker2']), usage);
  });
});
