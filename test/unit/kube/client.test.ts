import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { API_RESTART_GRACE_MS, KubeClient, retryDelay } from '../../../src/kube/client.js';
import { localKubeconfig } from './local-kubeconfig.js';
import { NetdiagError } from '../../../src/lib/errors.js';

/**
 * What KubeClient puts on the wire (headers, timeouts, cancellation) checked against a local HTTP listener that
 * records requests. Behaviour against a real API server is covered by the end-to-end tests.
 */
describe('KubeClient requests', () => {
  let server: Server;
  let kubeconfig: string;
  const seen: { method: string; url: string; contentType: string; body: string }[] = [];

  before(async () => {
    server = createServer((request: IncomingMessage, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        seen.push({
          method: request.method ?? '',
          url: request.url ?? '',
          contentType: request.headers['content-type'] ?? '',
          body: Buffer.concat(chunks).toString(),
        });
        if (request.url?.includes('/namespaces/slow/')) return; // never answers
        if (request.url?.startsWith('/api/v1/namespaces/watched/pods?')) {
          // A watch: one event that is not yet interesting, then the pod running.
          response.writeHead(200, { 'content-type': 'application/json' });
          const event = (phase: string) =>
            `${JSON.stringify({ type: 'MODIFIED', object: { metadata: { name: 'x', resourceVersion: phase }, status: { phase } } })}\n`;
          response.write(event('Pending'));
          setTimeout(() => response.end(event('Running')), 50);
          return;
        }
        if (request.url?.startsWith('/api/v1/namespaces/fleet/pods?')) {
          response.writeHead(200, { 'content-type': 'application/json' });
          const pod = (name: string, phase: string) => ({ metadata: { name }, status: { phase } });
          if (!request.url.includes('watch=true')) {
            response.end(
              JSON.stringify({ kind: 'PodList', metadata: { resourceVersion: '7' }, items: [pod('a', 'Pending')] }),
            );
            return;
          }
          // One watch for the whole set: b appears, a runs, b is deleted.
          const event = (type: string, object: object) => `${JSON.stringify({ type, object })}\n`;
          response.write(event('ADDED', pod('b', 'Pending')));
          response.write(event('MODIFIED', pod('a', 'Running')));
          setTimeout(() => response.end(event('DELETED', pod('b', 'Pending'))), 50);
          return;
        }
        if (request.url?.startsWith('/api/v1/namespaces/no-watch/pods?')) {
          response.writeHead(403, { 'content-type': 'application/json' });
          response.end(
            JSON.stringify({ kind: 'Status', code: 403, reason: 'Forbidden', message: 'cannot watch pods' }),
          );
          return;
        }
        if (request.url?.includes('/namespaces/watched/') || request.url?.includes('/namespaces/no-watch/')) {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ metadata: { name: 'x', resourceVersion: '1' }, status: { phase: 'Pending' } }));
          return;
        }
        if (request.url?.includes('/namespaces/missing/')) {
          response.writeHead(404, { 'content-type': 'application/json' });
          response.end(
            JSON.stringify({
              kind: 'Status',
              status: 'Failure',
              reason: 'NotFound',
              code: 404,
              message: 'pods "x" not found',
            }),
          );
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', namespace: 'ns' } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    kubeconfig = localKubeconfig(port);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('sends ephemeral containers as a strategic merge patch', async () => {
    const client = KubeClient.fromAccess({ kubeconfig, requestTimeoutMs: 5000 });
    await client.patchEphemeralContainers('ns', 'x', { spec: { ephemeralContainers: [{ name: 'n' }] } });
    const patch = seen.find((request) => request.method === 'PATCH');
    assert.equal(patch?.url, '/api/v1/namespaces/ns/pods/x/ephemeralcontainers');
    assert.equal(patch?.contentType, 'application/strategic-merge-patch+json');
    assert.deepEqual(JSON.parse(patch?.body ?? ''), { spec: { ephemeralContainers: [{ name: 'n' }] } });
  });

  it('bounds each request by --request-timeout', async () => {
    const client = KubeClient.fromAccess({ kubeconfig, requestTimeoutMs: 300 });
    const started = Date.now();
    await assert.rejects(
      client.readPod('slow', 'x'),
      (err: unknown) => err instanceof NetdiagError && err.exitCode === 3 && /timed out after 300ms/.test(err.message),
    );
    assert.ok(Date.now() - started < 3000);
  });

  it('rejects with the run signal’s reason when cancelled', async () => {
    const client = KubeClient.fromAccess({ kubeconfig, requestTimeoutMs: 0 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('user stopped')), 100);
    await assert.rejects(client.readPod('slow', 'x', { signal: controller.signal }), /user stopped/);
  });

  it('reports an unknown pod as bad input', async () => {
    const client = KubeClient.fromAccess({ kubeconfig, requestTimeoutMs: 5000 });
    await assert.rejects(
      client.readPod('missing', 'x'),
      (err: unknown) =>
        err instanceof NetdiagError && err.exitCode === 2 && err.message === 'pod "x" not found in namespace "missing"',
    );
  });

  it('watchPod starts from a GET, follows watch events and stops when check answers', async () => {
    const client = KubeClient.fromAccess({ kubeconfig, requestTimeoutMs: 5000 });
    const phases: (string | undefined)[] = [];
    const result = await client.watchPod(
      'watched',
      'x',
      (pod) => {
        phases.push(pod?.status?.phase);
        return pod?.status?.phase === 'Running' ? 'ready' : undefined;
      },
      AbortSignal.timeout(5000),
    );
    assert.equal(result, 'ready');
    assert.deepEqual(phases, ['Pending', 'Pending', 'Running']);
    const watchRequest = seen.find((request) => request.url.startsWith('/api/v1/namespaces/watched/pods?'));
    const query = new URL(watchRequest?.url ?? '', 'http://x').searchParams;
    assert.equal(query.get('watch'), 'true');
    assert.equal(query.get('fieldSelector'), 'metadata.name=x');
    assert.equal(query.get('resourceVersion'), '1', 'the watch continues from the GET');
  });

  it('watchPods follows a label-selected set with ONE list and ONE watch, and counts the requests', async () => {
    const client = KubeClient.fromAccess({ kubeconfig, requestTimeoutMs: 5000 });
    const before = seen.length;
    const snapshots: string[] = [];
    const result = await client.watchPods(
      'fleet',
      'kubectl-netdiag/session=s1',
      (pods) => {
        snapshots.push([...pods.values()].map((pod) => `${pod.metadata?.name}:${pod.status?.phase}`).join(','));
        return pods.size === 1 && pods.get('a')?.status?.phase === 'Running' ? 'settled' : undefined;
      },
      AbortSignal.timeout(5000),
    );
    assert.equal(result, 'settled');
    assert.deepEqual(snapshots, ['a:Pending', 'a:Pending,b:Pending', 'a:Running,b:Pending', 'a:Running']);
    const requests = seen.slice(before).map((request) => new URL(request.url, 'http://x').searchParams);
    assert.equal(requests.length, 2);
    assert.equal(requests[0]?.get('labelSelector'), 'kubectl-netdiag/session=s1');
    assert.equal(requests[1]?.get('watch'), 'true');
    assert.equal(requests[1]?.get('resourceVersion'), '7', 'the watch continues from the list');
    assert.equal(client.requestCount, 2);
  });

  it('watchPod fails at once when the API refuses the watch', async () => {
    const client = KubeClient.fromAccess({ kubeconfig, requestTimeoutMs: 5000 });
    const started = Date.now();
    await assert.rejects(
      client.watchPod('no-watch', 'x', () => undefined, AbortSignal.timeout(10_000)),
      (err: unknown) => err instanceof NetdiagError && err.exitCode === 3 && /forbidden/.test(err.message),
    );
    assert.ok(Date.now() - started < 3000, 'no retry loop');
  });
});

describe('retryDelay: which failed requests are sent again', () => {
  const transport = (code: string) =>
    new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });
  it('a refused connection never reached the server: any method, backing off to 2 s', () =>
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((attempt) => retryDelay(transport('ECONNREFUSED'), 'POST', attempt, 0)),
      [250, 500, 1000, 2000, 2000],
    ));
  it('a connection broken mid-request: reads and deletes only', () => {
    assert.equal(retryDelay(transport('ECONNRESET'), 'GET', 1, 0), 250);
    assert.equal(retryDelay(transport('UND_ERR_SOCKET'), 'DELETE', 1, 0), 250);
    assert.equal(retryDelay(transport('ECONNRESET'), 'POST', 1, 0), undefined);
    assert.equal(retryDelay(transport('UND_ERR_SOCKET'), 'PATCH', 1, 0), undefined);
  });
  it('a server that did not take the request in (shutting down: 503, shedding load: 429): any method', () => {
    const status = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code, body: '' });
    assert.equal(retryDelay(status(503), 'POST', 1, 0), 250);
    assert.equal(retryDelay(status(429), 'PATCH', 2, 0), 500);
    assert.equal(retryDelay(status(500), 'GET', 1, 0), undefined);
  });
  it('not after the grace period, and never for an answer or a TLS failure', () => {
    assert.equal(retryDelay(transport('ECONNREFUSED'), 'GET', 3, API_RESTART_GRACE_MS - 500), undefined);
    assert.equal(retryDelay(transport('ECONNREFUSED'), 'GET', 3, API_RESTART_GRACE_MS - 1000), 1000);
    assert.equal(retryDelay(Object.assign(new Error('Forbidden'), { code: 403 }), 'GET', 1, 0), undefined);
    assert.equal(retryDelay(transport('DEPTH_ZERO_SELF_SIGNED_CERT'), 'GET', 1, 0), undefined);
  });
});

describe('KubeClient across an API server restart', () => {
  const pod = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', namespace: 'ns' } });
  const listen = async (port = 0): Promise<Server> => {
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(pod);
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return server;
  };
  const stop = (server: Server) =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });

  it('a server that answered earlier in the run is waited for while it restarts', async () => {
    const first = await listen();
    const port = (first.address() as AddressInfo).port;
    const client = KubeClient.fromAccess({ kubeconfig: localKubeconfig(port), requestTimeoutMs: 5000 });
    await client.readPod('ns', 'x');
    await stop(first);
    let second: Server | undefined;
    const restarted = new Promise<void>((resolve) =>
      setTimeout(() => void listen(port).then((server) => ((second = server), resolve())), 700),
    );
    const before = client.requestCount;
    const started = Date.now();
    const answer = await client.readPod('ns', 'x');
    await restarted;
    assert.equal(answer.metadata?.name, 'x');
    assert.ok(Date.now() - started >= 600, 'it waited for the server');
    assert.ok(client.requestCount - before >= 2, `sent again: ${client.requestCount - before} attempts`);
    if (second) await stop(second);
  });

  it('a server never reached fails at once, as kubectl does', async () => {
    const probe = await listen();
    const port = (probe.address() as AddressInfo).port;
    await stop(probe);
    const client = KubeClient.fromAccess({ kubeconfig: localKubeconfig(port), requestTimeoutMs: 5000 });
    const started = Date.now();
    await assert.rejects(
      client.readPod('ns', 'x'),
      (err: unknown) => err instanceof NetdiagError && err.exitCode === 3 && /ECONNREFUSED/.test(err.message),
    );
    assert.ok(Date.now() - started < 1000, `failed after ${Date.now() - started} ms`);
    assert.equal(client.requestCount, 1);
  });
});
