import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NetdiagError } from '../../../src/lib/errors.js';
import { describeTarget, parseTarget } from '../../../src/sniff/target.js';

const usage = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (err: unknown) => err instanceof NetdiagError && err.exitCode === 2 && pattern.test(err.message));

describe('parseTarget', () => {
  it('treats a bare name as a pod', () => {
    assert.deepEqual(parseTarget('web-7d9f-abcde', undefined), { kind: 'pod', name: 'web-7d9f-abcde' });
  });

  it('accepts kubectl resource spellings', () => {
    assert.deepEqual(parseTarget('pod/a', undefined), { kind: 'pod', name: 'a' });
    assert.deepEqual(parseTarget('po/a', undefined), { kind: 'pod', name: 'a' });
    assert.deepEqual(parseTarget('deploy/web', undefined), { kind: 'workload', resource: 'deployment', name: 'web' });
    assert.deepEqual(parseTarget('deployment.apps/web', undefined), {
      kind: 'workload',
      resource: 'deployment',
      name: 'web',
    });
    assert.deepEqual(parseTarget('sts/db', undefined), { kind: 'workload', resource: 'statefulset', name: 'db' });
    assert.deepEqual(parseTarget('ds/agent', undefined), { kind: 'workload', resource: 'daemonset', name: 'agent' });
    assert.deepEqual(parseTarget('rs/web-1', undefined), { kind: 'workload', resource: 'replicaset', name: 'web-1' });
    assert.deepEqual(parseTarget('svc/kube-dns', undefined), { kind: 'service', name: 'kube-dns' });
    assert.deepEqual(parseTarget('Service/kube-dns', undefined), { kind: 'service', name: 'kube-dns' });
    assert.deepEqual(parseTarget('node/worker2.kube.local', undefined), { kind: 'node', name: 'worker2.kube.local' });
  });

  it('takes a selector instead of a target', () => {
    assert.deepEqual(parseTarget(undefined, ' app=web,tier!=db '), { kind: 'selector', selector: 'app=web,tier!=db' });
  });

  it('rejects both, neither, unknown types and invalid names with exit 2', () => {
    usage(() => parseTarget('pod/a', 'app=web'), /both TARGET/);
    usage(() => parseTarget(undefined, undefined), /no capture target/);
    usage(() => parseTarget(undefined, '  '), /empty --selector/);
    usage(() => parseTarget('cm/config', undefined), /unsupported target type "cm"/);
    usage(() => parseTarget('pod/', undefined), /invalid name ""/);
    usage(() => parseTarget('Web_1', undefined), /invalid name "Web_1"/);
    usage(() => parseTarget('pod/a;rm -rf', undefined), /invalid name/);
  });

  it('describes queries the way users type them', () => {
    assert.equal(describeTarget(parseTarget('deploy/web', undefined)), 'deployment/web');
    assert.equal(describeTarget(parseTarget(undefined, 'app=web')), '-l app=web');
    assert.equal(describeTarget(parseTarget('svc/dns', undefined)), 'svc/dns');
  });
});
