/**
 * Name resolution records for pcapng output: pod IPs → `pod.namespace`, Service cluster IPs → `svc.namespace`,
 * node addresses → the node name. Wireshark shows these instead of bare addresses.
 */
import type { KubeClient, V1Node, V1Pod, V1Service } from '../kube/client.js';
import type { NameRecord } from '../pcap/pcapng.js';

/** Builds the records from API objects. Pure. Host-network pods are skipped: their IP is the node's. */
export function nameRecords(
  pods: readonly V1Pod[],
  services: readonly V1Service[],
  nodes: readonly V1Node[],
): NameRecord[] {
  const records: NameRecord[] = [];
  const seen = new Set<string>();
  const add = (ip: string | undefined, name: string) => {
    if (!ip || ip === 'None' || seen.has(`${ip} ${name}`)) return;
    seen.add(`${ip} ${name}`);
    records.push({ ip, name });
  };
  for (const pod of pods) {
    if (pod.spec?.hostNetwork) continue;
    const name = `${pod.metadata?.name}.${pod.metadata?.namespace}`;
    for (const entry of pod.status?.podIPs ?? []) add(entry.ip, name);
    add(pod.status?.podIP, name);
  }
  for (const svc of services) {
    const name = `${svc.metadata?.name}.${svc.metadata?.namespace}`;
    for (const ip of svc.spec?.clusterIPs ?? []) add(ip, name);
    add(svc.spec?.clusterIP, name);
  }
  for (const node of nodes) {
    for (const address of node.status?.addresses ?? []) {
      if (address.type === 'InternalIP' || address.type === 'ExternalIP')
        add(address.address, node.metadata?.name ?? '');
    }
  }
  return records;
}

/**
 * Reads pods, Services and nodes cluster-wide; where listing everything is forbidden, falls back to the target
 * namespaces; what cannot be read at all is left out (names are a convenience, never a reason to fail).
 */
export async function collectNameRecords(
  client: KubeClient,
  namespaces: readonly string[],
  signal: AbortSignal,
): Promise<{ records: NameRecord[]; notes: string[] }> {
  const notes: string[] = [];
  const call = { signal };
  const attempt = async <T>(
    what: string,
    all: () => Promise<T[]>,
    perNamespace: (ns: string) => Promise<T[]>,
  ): Promise<T[]> => {
    try {
      return await all();
    } catch {
      try {
        return (await Promise.all(namespaces.map(perNamespace))).flat();
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        notes.push(
          `names: cannot list ${what} (${(err as Error).message.split('\n')[0]}); their addresses stay numeric`,
        );
        return [];
      }
    }
  };
  const [pods, services, nodes] = await Promise.all([
    attempt<V1Pod>(
      'pods',
      () => client.listPods(undefined, {}, call),
      (ns) => client.listPods(ns, {}, call),
    ),
    attempt<V1Service>(
      'services',
      () => client.listServices(undefined, {}, call),
      (ns) => client.listServices(ns, {}, call),
    ),
    attempt<V1Node>(
      'nodes',
      () => client.listNodes({}, call),
      async () => [],
    ),
  ]);
  return { records: nameRecords(pods, services, nodes), notes };
}
