import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { checkRequirements } from '../../../src/check/engine.js';
import { cleanupRequirements } from '../../../src/commands/cleanup.js';
import { dnsRequirements } from '../../../src/dns/engine.js';
import { nodeRequirements } from '../../../src/node/engine.js';
import { fleetRequirements } from '../../../src/kube/fleet.js';
import type { AccessRequirement } from '../../../src/kube/preflight.js';
import { sniffRequirements } from '../../../src/sniff/engine.js';

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

/** Every profile's fleet needs the same verbs; the diagnosis commands add their own reads as they land. */
const needs: AccessRequirement[] = [
  ...sniffRequirements('ns'),
  ...checkRequirements('ns'),
  ...dnsRequirements('ns'),
  ...nodeRequirements('ns'),
  ...fleetRequirements('ns'),
  ...cleanupRequirements('ns'),
  ...cleanupRequirements(undefined),
];

describe('docs/rbac.yaml', () => {
  it('has the two documented ClusterRoles', () => {
    assert.deepEqual(
      roles.map((role) => `${role.kind}/${role.metadata.name}`),
      ['ClusterRole/kubectl-netdiag-cluster', 'ClusterRole/kubectl-netdiag'],
    );
  });
  it('grants everything sniff, check, dns, node, the fleets and cleanup ask for (as their code says)', () => {
    assert.deepEqual(
      needs.filter((req) => !granted(req)),
      [],
    );
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
