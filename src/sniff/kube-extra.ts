/**
 * API reads the sniff engine needs that src/kube/client.ts does not offer yet (listing Services). Kept apart so it
 * can move into KubeClient as a method: it uses only KubeClient's public surface (the same URL, TLS and credentials
 * it hands to WebSockets), never @kubernetes/client-node.
 */
import { request } from 'node:https';
import { request as plainRequest } from 'node:http';
import { environmentError } from '../lib/errors.js';
import type { KubeClient, V1Service } from '../kube/client.js';

/** GET a JSON list from the API server with the client's credentials. */
async function getJson<T>(client: KubeClient, path: string, signal: AbortSignal): Promise<T> {
  const target = await client.webSocketTarget(path, new URLSearchParams());
  const url = new URL(target.url.replace(/\?$/, ''));
  url.protocol = url.protocol === 'ws:' ? 'http:' : 'https:';
  const send = url.protocol === 'http:' ? plainRequest : request;
  const timeout = client.requestTimeoutMs > 0 ? AbortSignal.timeout(client.requestTimeoutMs) : undefined;
  const combined = timeout ? AbortSignal.any([signal, timeout]) : signal;
  return new Promise<T>((resolve, reject) => {
    const req = send(
      url,
      {
        ...(target.options as object),
        method: 'GET',
        signal: combined,
        headers: { ...((target.options as { headers?: object }).headers ?? {}), Accept: 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 0) >= 300) {
            reject(
              environmentError(
                `GET ${path} failed with HTTP ${res.statusCode}: ${body.slice(0, 200)}`,
                'check your permissions',
              ),
            );
            return;
          }
          try {
            resolve(JSON.parse(body) as T);
          } catch (err) {
            reject(err);
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', (err) => reject(signal.aborted ? signal.reason : err));
    req.end();
  });
}

/** Services of one namespace, or of all namespaces when `namespace` is undefined. */
export async function listServices(
  client: KubeClient,
  namespace: string | undefined,
  signal: AbortSignal,
): Promise<V1Service[]> {
  const path =
    namespace === undefined ? '/api/v1/services' : `/api/v1/namespaces/${encodeURIComponent(namespace)}/services`;
  return (await getJson<{ items: V1Service[] }>(client, path, signal)).items;
}
