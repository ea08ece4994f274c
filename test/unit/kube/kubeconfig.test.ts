import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { stringify as toYaml } from 'yaml';
import { KubeClient, resolveAccess } from '../../../src/kube/client.js';
import {
  kubeconfigSource,
  mergeKubeconfigs,
  readKubeconfigFiles,
  selectAccess,
  singleContextDocument,
} from '../../../src/kube/kubeconfig.js';
import { NetdiagError } from '../../../src/lib/errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-kubeconfig-'));
function write(name: string, doc: object): string {
  const file = path.join(dir, name);
  writeFileSync(file, toYaml(doc));
  return file;
}

const first = write('first.yaml', {
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name: 'shared', cluster: { server: 'https://first.example:6443', 'certificate-authority': 'ca.crt' } }],
  users: [
    {
      name: 'alice',
      user: { token: 'first-token', 'client-certificate': 'certs/alice.crt', 'client-key': '/abs/alice.key' },
    },
  ],
  contexts: [{ name: 'dev', context: { cluster: 'shared', user: 'alice', namespace: 'team-a' } }],
});
const second = write('second.yaml', {
  apiVersion: 'v1',
  kind: 'Config',
  'current-context': 'prod',
  clusters: [
    { name: 'shared', cluster: { server: 'https://second.example:6443' } },
    { name: 'prod-cluster', cluster: { server: 'https://prod.example:6443' } },
  ],
  users: [
    { name: 'alice', user: { token: 'second-token' } },
    { name: 'bob', user: { token: 'bob-token', exec: { command: './bin/get-token' } } },
  ],
  contexts: [
    { name: 'prod', context: { cluster: 'prod-cluster', user: 'bob' } },
    { name: 'dev', context: { cluster: 'prod-cluster', user: 'bob' } },
  ],
});
const third = write('third.yaml', { 'current-context': 'dev', contexts: [] });
const missing = path.join(dir, 'does-not-exist.yaml');

const isExit = (code: number) => (err: unknown) => err instanceof NetdiagError && err.exitCode === code;

describe('kubeconfig loading like kubectl', () => {
  it('uses --kubeconfig over KUBECONFIG over ~/.kube/config', () => {
    assert.deepEqual(kubeconfigSource('/flag', { KUBECONFIG: `${first}:${second}` }, '/home/u'), {
      paths: ['/flag'],
      origin: 'flag',
    });
    assert.deepEqual(kubeconfigSource(undefined, { KUBECONFIG: `${first}::${second}:${first}` }, '/home/u'), {
      paths: [first, second],
      origin: 'env',
    });
    assert.deepEqual(kubeconfigSource(undefined, {}, '/home/u'), {
      paths: ['/home/u/.kube/config'],
      origin: 'default',
    });
  });

  it('merges KUBECONFIG: first file wins per name, current-context from the first file that sets it', () => {
    const merged = mergeKubeconfigs(
      readKubeconfigFiles(
        kubeconfigSource(undefined, { KUBECONFIG: [missing, first, second, third].join(':') }, '/home/u'),
      ),
    );
    assert.equal(merged.currentContext, 'prod', 'first.yaml sets none, second.yaml sets prod, third.yaml is ignored');
    assert.equal(merged.clusters.find((c) => c.name === 'shared')?.value.server, 'https://first.example:6443');
    assert.equal(merged.users.find((u) => u.name === 'alice')?.value.token, 'first-token');
    assert.deepEqual(merged.contexts.find((c) => c.name === 'dev')?.value, {
      cluster: 'shared',
      user: 'alice',
      namespace: 'team-a',
    });
    assert.deepEqual(
      merged.contexts.map((c) => c.name),
      ['dev', 'prod'],
    );
  });

  it('resolves relative file references against the file that defined them', () => {
    const merged = mergeKubeconfigs(readKubeconfigFiles({ paths: [first, second], origin: 'env' }));
    assert.equal(
      merged.clusters.find((c) => c.name === 'shared')?.value['certificate-authority'],
      path.join(dir, 'ca.crt'),
    );
    const alice = merged.users.find((u) => u.name === 'alice')?.value;
    assert.equal(alice?.['client-certificate'], path.join(dir, 'certs/alice.crt'));
    assert.equal(alice?.['client-key'], '/abs/alice.key');
    assert.deepEqual(merged.users.find((u) => u.name === 'bob')?.value.exec, {
      command: path.join(dir, 'bin/get-token'),
    });
  });

  it('fails with exit 3 when --kubeconfig is missing or no KUBECONFIG file exists', () => {
    assert.throws(
      () => readKubeconfigFiles({ paths: [missing], origin: 'flag' }),
      (err: unknown) => isExit(3)(err) && (err as Error).message.includes(missing),
    );
    assert.throws(() => readKubeconfigFiles({ paths: [missing], origin: 'env' }), isExit(3));
    assert.throws(() => readKubeconfigFiles({ paths: [missing], origin: 'default' }), /no kubeconfig found/);
  });

  it('applies --context, --cluster, --user and -n; namespace defaults to the context’s then "default"', () => {
    const merged = mergeKubeconfigs(readKubeconfigFiles({ paths: [first, second], origin: 'env' }));
    const current = selectAccess(merged, {});
    assert.equal(current.contextName, 'prod');
    assert.equal(current.server, 'https://prod.example:6443');
    assert.equal(current.namespace, 'default');
    assert.equal(current.namespaceOrigin, 'default');
    const dev = selectAccess(merged, { context: 'dev' });
    assert.equal(dev.namespace, 'team-a');
    assert.equal(dev.userName, 'alice');
    const overridden = selectAccess(merged, {
      context: 'dev',
      cluster: 'prod-cluster',
      user: 'bob',
      namespace: 'kube-system',
    });
    assert.equal(overridden.server, 'https://prod.example:6443');
    assert.equal(overridden.userName, 'bob');
    assert.equal(overridden.namespace, 'kube-system');
    assert.equal(overridden.namespaceOrigin, 'flag');
  });

  it('reports unknown context, cluster and user as bad input (exit 2) listing the known names', () => {
    const merged = mergeKubeconfigs(readKubeconfigFiles({ paths: [first, second], origin: 'env' }));
    assert.throws(
      () => selectAccess(merged, { context: 'nope' }),
      (err: unknown) => isExit(2)(err) && (err as NetdiagError).fix === 'use one of: dev, prod',
    );
    assert.throws(() => selectAccess(merged, { cluster: 'nope' }), isExit(2));
    assert.throws(() => selectAccess(merged, { user: 'nope' }), isExit(2));
  });

  it('builds a one-context document and a client from it', () => {
    const { selection } = resolveAccess(
      { requestTimeoutMs: 1000, context: 'dev', namespace: 'x' },
      { KUBECONFIG: `${first}:${second}` },
      '/home/u',
    );
    const doc = singleContextDocument(selection);
    assert.equal((doc.contexts as { context: { namespace: string } }[])[0]?.context.namespace, 'x');
    const client = KubeClient.fromAccess(
      { requestTimeoutMs: 1000, context: 'prod' },
      { KUBECONFIG: `${first}:${second}` },
      '/home/u',
    );
    assert.equal(client.server, 'https://prod.example:6443');
    assert.equal(client.namespace, 'default');
    assert.equal(client.contextName, 'prod');
  });

  it('falls back to the pod service account like kubectl in a pod', () => {
    const saDir = path.join(dir, 'serviceaccount');
    mkdirSync(saDir);
    writeFileSync(path.join(saDir, 'token'), 'sa-token');
    writeFileSync(path.join(saDir, 'namespace'), 'apps\n');
    const podEnv = { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' };
    const source = kubeconfigSource(undefined, podEnv, path.join(dir, 'no-home'), saDir);
    assert.deepEqual(source, { paths: [saDir], origin: 'in-cluster' });
    assert.equal(kubeconfigSource(undefined, {}, path.join(dir, 'no-home'), saDir).origin, 'default', 'not in a pod');
    const selection = selectAccess(mergeKubeconfigs(readKubeconfigFiles(source, podEnv)), {});
    assert.equal(selection.server, 'https://[fd00::1]:6443');
    assert.equal(selection.namespace, 'apps');
    assert.equal(selection.cluster['certificate-authority'], path.join(saDir, 'ca.crt'));
    assert.equal(singleContextDocument(selection).users instanceof Array, true);
    assert.equal(
      (singleContextDocument(selection).users as { user: Record<string, string> }[])[0]?.user['token-file'],
      path.join(saDir, 'token'),
    );
  });
});
