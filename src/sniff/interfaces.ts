/**
 * Checks `-i` before anything is created: the pod's interfaces are read from /proc/net/dev through the target
 * container (all containers of a pod share its network namespace). When that container cannot tell (no `cat`,
 * distroless), the check is skipped and tcpdump's own error reports an unknown interface later (still exit 2).
 */
import { usageError } from '../lib/errors.js';
import type { KubeClient } from '../kube/client.js';
import { execCapture } from '../kube/exec.js';
import type { PodCaptureTarget } from './resolve.js';

/** Interface names from /proc/net/dev. Pure. */
export function parseProcNetDev(text: string): string[] {
  return text
    .split('\n')
    .slice(2)
    .map((line) => line.split(':')[0]?.trim() ?? '')
    .filter((name) => name !== '');
}

export async function checkInterface(
  client: KubeClient,
  target: PodCaptureTarget,
  iface: string,
  signal: AbortSignal,
): Promise<'ok' | 'unknown'> {
  if (iface === 'any') return 'ok';
  let names: string[];
  try {
    const run = await execCapture(client, {
      namespace: target.namespace,
      pod: target.pod,
      container: target.container,
      command: ['cat', '/proc/net/dev'],
      signal,
      maxBytes: 1 << 20,
    });
    if (run.exitCode !== 0) return 'unknown';
    names = parseProcNetDev(run.stdout.toString('utf8'));
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    return 'unknown';
  }
  if (names.length === 0) return 'unknown';
  if (!names.includes(iface)) {
    throw usageError(
      `interface "${iface}" does not exist in pod ${target.namespace}/${target.pod}`,
      `its interfaces are: any, ${names.join(', ')}`,
    );
  }
  return 'ok';
}
