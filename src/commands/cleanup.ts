import { homedir } from 'node:os';
import * as Flags from '@oclif/core/flags';
import { NetdiagCommand } from '../cli/command.js';
import { outputFlag } from '../cli/flags.js';
import { DATA_FORMATS, parseFormat, renderData } from '../findings/render/formats.js';
import { formatTable, type TableColumn } from '../lib/output.js';
import type { V1Pod } from '../kube/client.js';
import { preflight, type AccessRequirement } from '../kube/preflight.js';
import { MANAGED_SELECTOR, SESSION_LABEL } from '../kube/session.js';
import { cleanUpKeptUploads, keptUploadsFile } from '../sniff/kept-uploads.js';

/** One helper pod, Service (check's test Service) or kept upload found by cleanup and what happened to it. */
interface CleanupRow {
  readonly what: 'helper pod' | 'service' | 'uploaded tcpdump';
  readonly namespace: string;
  readonly name: string;
  readonly session: string;
  readonly node: string;
  readonly phase: string;
  readonly created: string;
  readonly result: 'deleted' | 'already gone' | 'failed';
  readonly error?: string;
}

const CLEANUP_COLUMNS: readonly TableColumn<CleanupRow>[] = [
  { header: 'what', value: (row) => row.what },
  { header: 'namespace', value: (row) => row.namespace },
  { header: 'name', value: (row) => row.name },
  { header: 'session', value: (row) => row.session },
  { header: 'result', value: (row) => row.result },
  { header: 'node', value: (row) => row.node, wide: true },
  { header: 'phase', value: (row) => row.phase, wide: true },
  { header: 'created', value: (row) => row.created, wide: true },
  { header: 'error', value: (row) => row.error ?? '', wide: true },
];

/** Permissions cleanup needs; cluster-wide with --all-namespaces. Exported for docs/rbac.yaml's test. */
export function cleanupRequirements(namespace: string | undefined): AccessRequirement[] {
  return ['pods', 'services'].flatMap((resource) => ['list', 'delete'].map((verb) => ({ verb, resource, namespace })));
}

export default class Cleanup extends NetdiagCommand {
  static override summary =
    'Delete helper pods that interrupted or crashed runs left behind, and the tcpdumps upload mode keeps in containers.';
  static override description =
    'Finds pods and Services labelled app.kubernetes.io/managed-by=kubectl-netdiag (in the namespace, or everywhere with -A) and deletes them. ' +
    'Removes the static tcpdumps sniff --mode upload left in containers for the next capture (noted by this client; they also remove themselves 10 minutes after their last capture). ' +
    'Ephemeral containers cannot be removed from a pod; their processes are bounded by a timeout and exit on their own.';
  static override examples = [
    '<%= config.bin %> cleanup',
    '<%= config.bin %> cleanup -A -o json',
    '<%= config.bin %> cleanup --session 3f9a1c2e',
  ];
  static override flags = {
    ...outputFlag(DATA_FORMATS),
    'all-namespaces': Flags.boolean({ char: 'A', description: 'Clean up in every namespace.' }),
    session: Flags.string({
      description:
        'Only objects of this run session id (tcpdumps kept by upload mode belong to no session: left alone).',
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parseFlags(Cleanup);
    const format = parseFormat(flags.output, DATA_FORMATS);
    const client = await this.client();
    const namespace = flags['all-namespaces'] ? undefined : client.namespace;
    const signal = this.abort.signal;
    const selector = flags.session ? `${MANAGED_SELECTOR},${SESSION_LABEL}=${flags.session}` : MANAGED_SELECTOR;

    await this.progress.step('checking permissions', () =>
      preflight(client, cleanupRequirements(namespace), client.namespace, { signal }),
    );
    const [pods, services] = await this.progress.step(
      `listing pods and Services labelled ${selector}${namespace ? ` in ${namespace}` : ' in all namespaces'}`,
      () =>
        Promise.all([
          client.listPods(namespace, { labelSelector: selector }, { signal }),
          client.listServices(namespace, { labelSelector: selector }, { signal }),
        ]),
    );
    const rows = await this.progress.step(`deleting ${pods.length} pod(s)`, () =>
      Promise.all(
        pods.map(async (pod: V1Pod): Promise<CleanupRow> => {
          const base = {
            what: 'helper pod' as const,
            namespace: pod.metadata?.namespace ?? '',
            name: pod.metadata?.name ?? '',
            session: pod.metadata?.labels?.[SESSION_LABEL] ?? '',
            node: pod.spec?.nodeName ?? '',
            phase: pod.status?.phase ?? '',
            created: pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).toISOString() : '',
          };
          try {
            const existed = await client.deletePod(base.namespace, base.name, { signal, gracePeriodSeconds: 0 });
            return { ...base, result: existed ? 'deleted' : 'already gone' };
          } catch (err) {
            return { ...base, result: 'failed', error: err instanceof Error ? err.message : String(err) };
          }
        }),
      ),
    );
    for (const service of services) {
      const base = {
        what: 'service' as const,
        namespace: service.metadata?.namespace ?? '',
        name: service.metadata?.name ?? '',
        session: service.metadata?.labels?.[SESSION_LABEL] ?? '',
        node: '',
        phase: '',
        created: service.metadata?.creationTimestamp ? new Date(service.metadata.creationTimestamp).toISOString() : '',
      };
      try {
        await client.deleteService(base.namespace, base.name, { signal });
        rows.push({ ...base, result: 'deleted' });
      } catch (err) {
        rows.push({ ...base, result: 'failed', error: err instanceof Error ? err.message : String(err) });
      }
    }
    // A kept upload serves every later run on its container, so it belongs to no session: --session leaves it be.
    const uploads = flags.session
      ? []
      : await this.progress.step('removing the tcpdumps upload mode kept in containers', () =>
          cleanUpKeptUploads(
            client,
            keptUploadsFile(process.env, homedir()),
            { context: client.contextName, namespace },
            signal,
          ),
        );
    for (const { entry, result, error } of uploads) {
      rows.push({
        what: 'uploaded tcpdump',
        namespace: entry.namespace,
        name: `${entry.pod}/${entry.container}:${entry.dir}`,
        session: '',
        node: '',
        phase: '',
        created: '',
        result: result === 'removed' ? 'deleted' : result,
        error,
      });
    }
    const empty = `nothing to clean up${namespace ? ` in namespace ${namespace}` : ''}`;
    process.stdout.write(
      await renderData(format, { namespace: namespace ?? null, selector, pods: rows }, (wide) =>
        // kubectl says "No resources found" on stderr; this message is stdout's, and only in the table formats.
        rows.length === 0 ? `${empty}\n` : formatTable(CLEANUP_COLUMNS, rows, wide),
      ),
    );
    const failures = rows.filter((row) => row.result === 'failed');
    if (failures.length > 0) {
      for (const row of failures) this.progress.warn(`could not delete ${row.namespace}/${row.name}: ${row.error}`);
      process.exitCode = 3;
    }
  }
}
