import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import {
  missingPermissionError,
  podSecurityLevel,
  podSecurityViolations,
  roleSnippet,
} from '../../../src/kube/preflight.js';

describe('preflight', () => {
  it('reads the enforce label, privileged when absent or unknown', () => {
    assert.equal(podSecurityLevel(undefined), 'privileged');
    assert.equal(podSecurityLevel({ 'pod-security.kubernetes.io/enforce': 'baseline' }), 'baseline');
    assert.equal(podSecurityLevel({ 'pod-security.kubernetes.io/enforce': 'restricted' }), 'restricted');
    assert.equal(podSecurityLevel({ 'pod-security.kubernetes.io/warn': 'restricted' }), 'privileged');
  });
  it('knows what baseline and restricted forbid', () => {
    assert.deepEqual(podSecurityViolations('privileged', { privileged: true, hostPID: true }), []);
    assert.deepEqual(podSecurityViolations('baseline', { capabilities: ['NET_RAW', 'CHOWN'] }), [
      'capabilities NET_RAW',
    ]);
    assert.deepEqual(
      podSecurityViolations('baseline', { privileged: true, hostPID: true, hostNetwork: true, hostPath: true }),
      ['privileged', 'hostNetwork', 'hostPID', 'hostPath volumes'],
    );
    assert.deepEqual(podSecurityViolations('restricted', { runsAsRoot: true, capabilities: ['CHOWN'] }), [
      'capabilities CHOWN',
      'running as root',
    ]);
  });
  it('writes a Role for namespaced and a ClusterRole for cluster-scoped permissions', () => {
    const yaml = roleSnippet(
      [
        { verb: 'create', resource: 'pods', namespace: 'team' },
        { verb: 'delete', resource: 'pods', namespace: 'team' },
        { verb: 'patch', resource: 'pods', subresource: 'ephemeralcontainers', namespace: 'team' },
        { verb: 'list', resource: 'nodes' },
      ],
      'team',
    );
    const docs = parseAllDocuments(yaml).map((doc) => doc.toJS());
    assert.deepEqual(docs[0], {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'kubectl-netdiag', namespace: 'team' },
      rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['create', 'delete'] },
        { apiGroups: [''], resources: ['pods/ephemeralcontainers'], verbs: ['patch'] },
      ],
    });
    assert.equal(docs[1].kind, 'ClusterRole');
    assert.deepEqual(docs[1].rules, [{ apiGroups: [''], resources: ['nodes'], verbs: ['list'] }]);
  });
  it('names every missing verb/resource in one cause line and carries the YAML as detail', () => {
    const err = missingPermissionError(
      [
        { verb: 'create', resource: 'pods', namespace: 'x' },
        { verb: 'get', resource: 'pods', subresource: 'exec', namespace: 'x' },
      ],
      'x',
      'user "sa"',
    );
    assert.equal(err.exitCode, 3);
    assert.equal(
      err.message,
      'user "sa" is not allowed to create pods in namespace "x"; get pods/exec in namespace "x"',
    );
    assert.match(err.detail ?? '', /kind: Role/);
  });
});
