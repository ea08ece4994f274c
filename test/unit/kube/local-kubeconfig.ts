import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Writes a kubeconfig whose only context points at a plain-HTTP listener on 127.0.0.1 (unit tests of what the client
 * puts on the wire). client-node refuses http:// unless TLS verification is explicitly off.
 */
export function localKubeconfig(port: number): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'netdiag-local-')), 'config');
  writeFileSync(
    file,
    JSON.stringify({
      clusters: [{ name: 'local', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'local', context: { cluster: 'local', user: 'u' } }],
      'current-context': 'local',
    }),
  );
  return file;
}
