import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { checkRequirements } from '../../../src/check/engine.js';
import { cleanupRequirements } from '../../../src/commands/cleanup.js';
import { dnsRequirements } from '../../../src/dns/engine.js';
import type { AccessRequirement } from '../../../src/kube/preflight.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
const roles = parseAllDocuments(readFileSync(new URL('../../../../docs/rbac.yaml', import.meta.url), 'utf8')).map(
  (doc) => doc.toJS() as { kind: string; metadata: { name: string }; rules: Rule[] },
);

/** True when some ClusterRole in docs/rbac.yaml grants the permission. */
function granted(req: AccessRequirement): boolean {
  const resource = req.subresource ? `${req.resource}/${req.subresource}` : req.resource;
  return roles.some((role) =>
    role.rules.some(
      (rule) =>
        rule.apiGroups.includes(req.group ?? '') && rule.resources.includes(resource) && rule.verbs.includes(req.verb),
    ),
  );
}

/** What the sniff command needs (issue 3), as the sniff engine's preflight will ask for it. */
const sniffNeeds: AccessRequirement[] = [
  ...['get', 'list', 'watch', 'create', 'delete'].map((verb) => ({ verb, resource: 'pods', namespace: 'ns' })),
  { verb: 'patch', resource: 'pods', subresource: 'ephemeralcontainers', namespace: 'ns' },
  { verb: 'get', resource: 'pods', subresource: 'exec', namespace: 'ns' },
  { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'ns' },
  { verb: 'get', resource: 'nodes' },
  { verb: 'list', resource: 'nodes' },
  ...['deployments', 'statefulsets', 'daemonsets', 'replicasets'].map((resource) => ({
    verb: 'get',
    resource,
    group: 'apps',
    namespace: 'ns',
  })),
  { verb: 'get', resource: 'services', namespace: 'ns' },
  { verb: 'list', resource: 'services', namespace: 'ns' },
  { verb: 'get', resource: 'endpointslices', group: 'discovery.k8s.io', namespace: 'ns' },
  { verb: 'list', resource: 'endpointslices', group: 'discovery.k8s.io', namespace: 'ns' },
  { verb: 'get', resource: 'namespaces' },
  { verb: 'create', resource: 'selfsubjectaccessreviews', group: 'authorization.k8s.io' },
];

describe('docs/rbac.yaml', () => {
  it('has the two documented ClusterRoles', () => {
    assert.deepEqual(
      roles.map((role) => `${role.kind}/${role.metadata.name}`),
      ['ClusterRole/kubectl-netdiag-cluster', 'ClusterRole/kubectl-netdiag'],
    );
  });
  it('grants everything sniff, check, dns and cleanup need', () => {
    const missing = [
      ...sniffNeeds,
      ...checkRequirements('ns'),
      ...dnsRequirements('ns'),
      ...cleanupRequirements('ns'),
      ...cleanupRequirements(undefined),
    ].filter((req) => !granted(req));
    assert.deepEqual(missing, []);
  });
  it('grants nothing beyond reads on cluster-scoped objects', () => {
    const cluster = roles.find((role) => role.metadata.name === 'kubectl-netdiag-cluster');
    const writes = cluster?.rules.filter(
      (rule) =>
        rule.verbs.some((verb) => !['get', 'list', 'watch'].includes(verb)) &&
        !rule.resources.includes('selfsubjectaccessreviews'),
    );
    assert.deepEqual(writes, []);
  });
});
