import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KubeClient } from '../../../src/kube/client.js';
import { MANAGED_BY_LABEL, RunSession, SESSION_LABEL } from '../../../src/kube/session.js';
import { localKubeconfig } from './local-kubeconfig.js';

/** What RunSession asks of the API on cleanup, recorded by a local listener (the e2e tests use a real cluster). */
describe('RunSession cleanup', () => {
  let server: Server;
  let client: KubeClient;
  const events: string[] = [];

  before(async () => {
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        events.push(`${request.method} ${request.url}`);
        const gone = request.url?.includes('/never-created');
        response.writeHead(gone ? 404 : 200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify(
            gone ? { kind: 'Status', code: 404, reason: 'NotFound', message: 'not found' } : { kind: 'Pod' },
          ),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = KubeClient.fromAccess({
      kubeconfig: localKubeconfig((server.address() as AddressInfo).port),
      requestTimeoutMs: 5000,
    });
  });
  after(() => server.close());

  it('labels objects with managed-by and its id', () => {
    const session = new RunSession(client, 'abcd1234');
    assert.deepEqual(session.labels, { [MANAGED_BY_LABEL]: 'kubectl-netdiag', [SESSION_LABEL]: 'abcd1234' });
    assert.equal(session.selector, 'app.kubernetes.io/managed-by=kubectl-netdiag,kubectl-netdiag/session=abcd1234');
    assert.match(new RunSession(client).id, /^[0-9a-f]{8}$/);
  });

  it('runs finalizers in reverse, then force-deletes tracked pods once, and is idempotent', async () => {
    events.length = 0;
    const session = new RunSession(client);
    session.trackPod('ns', 'helper-a');
    session.trackPod('ns', 'helper-a');
    session.trackPod('ns', 'never-created');
    session.onCleanup('first', async () => {
      events.push('finalizer first');
    });
    session.onCleanup('second', async () => {
      events.push('finalizer second');
      throw new Error('already gone');
    });
    const outcome = await session.cleanup();
    assert.deepEqual(outcome, { deleted: [{ kind: 'pod', namespace: 'ns', name: 'helper-a' }], failed: [] });
    assert.deepEqual(events.slice(0, 2), ['finalizer second', 'finalizer first']);
    assert.deepEqual(events.slice(2).sort(), [
      'DELETE /api/v1/namespaces/ns/pods/helper-a?gracePeriodSeconds=0',
      'DELETE /api/v1/namespaces/ns/pods/never-created?gracePeriodSeconds=0',
    ]);
    assert.equal(await session.cleanup(), outcome);
    assert.equal(events.length, 4, 'the second cleanup sent nothing');
  });

  it('deletes tracked Services too, one already gone counting as deleted', async () => {
    events.length = 0;
    const session = new RunSession(client);
    session.trackService('ns', 'netdiag-check-echo');
    session.trackService('ns', 'never-created');
    session.trackPod('ns', 'helper-b');
    const outcome = await session.cleanup();
    assert.deepEqual(
      [...outcome.deleted].sort((a, b) => a.name.localeCompare(b.name)),
      [
        { kind: 'pod', namespace: 'ns', name: 'helper-b' },
        { kind: 'service', namespace: 'ns', name: 'netdiag-check-echo' },
        { kind: 'service', namespace: 'ns', name: 'never-created' },
      ],
    );
    assert.deepEqual(events.sort(), [
      'DELETE /api/v1/namespaces/ns/pods/helper-b?gracePeriodSeconds=0',
      'DELETE /api/v1/namespaces/ns/services/netdiag-check-echo',
      'DELETE /api/v1/namespaces/ns/services/never-created',
    ]);
  });
});
