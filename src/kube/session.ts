/**
 * A run of the CLI and everything it created in the cluster. Every object a run creates carries the managed-by
 * label and the run's session label, and is registered here, so cleanup deletes it on success, error, SIGINT and
 * SIGTERM; `kubectl netdiag cleanup` finds what a crashed run left by the same labels.
 */
import { randomBytes } from 'node:crypto';
import type { KubeClient } from './client.js';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'kubectl-netdiag';
export const SESSION_LABEL = 'kubectl-netdiag/session';
/** Selects everything any run created. */
export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

/** How long cleanup may take in total; it runs after an abort, so it cannot use the run's signal. */
const CLEANUP_TIMEOUT_MS = 30_000;

/** An object the run created: helper pods, and Services (check's test Service over its echo servers). */
export interface TrackedObject {
  readonly kind: 'pod' | 'service';
  readonly namespace: string;
  readonly name: string;
}

export interface CleanupOutcome {
  /** Objects that existed and were deleted (Services: deleted or already gone). */
  readonly deleted: readonly TrackedObject[];
  /** Objects that could not be deleted, with the reason; `kubectl netdiag cleanup` is the remedy. */
  readonly failed: readonly { readonly resource: TrackedObject; readonly error: string }[];
}

/** A fresh session id: 8 lowercase hex characters, valid in label values and pod names. */
export const newSessionId = (): string => randomBytes(4).toString('hex');

export class RunSession {
  readonly id: string;
  /** Labels every created object carries. */
  readonly labels: Readonly<Record<string, string>>;
  private readonly client: KubeClient;
  private readonly objects: TrackedObject[] = [];
  private readonly finalizers: { description: string; run: () => Promise<void> }[] = [];
  private cleanupPromise: Promise<CleanupOutcome> | undefined;

  constructor(client: KubeClient, id: string = newSessionId()) {
    this.client = client;
    this.id = id;
    this.labels = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [SESSION_LABEL]: id };
  }

  /** Label selector for this run's objects. */
  get selector(): string {
    return `${MANAGED_SELECTOR},${SESSION_LABEL}=${this.id}`;
  }

  /**
   * Registers a pod for deletion. Call it BEFORE the create request (pod names are generated client-side): an
   * interruption during the request must not leave an untracked pod. Pods that turn out not to exist are skipped.
   */
  trackPod(namespace: string, name: string): void {
    this.track({ kind: 'pod', namespace, name });
  }

  /** Registers a Service for deletion; like pods, BEFORE the create request. */
  trackService(namespace: string, name: string): void {
    this.track({ kind: 'service', namespace, name });
  }

  private track(object: TrackedObject): void {
    if (!this.objects.some((o) => o.kind === object.kind && o.namespace === object.namespace && o.name === object.name))
      this.objects.push(object);
  }

  /** Registers any other undo step (kill a remote process, remove a temp file). Run in reverse order, before pod deletion. */
  onCleanup(description: string, run: () => Promise<void>): void {
    this.finalizers.push({ description, run });
  }

  get trackedObjects(): readonly TrackedObject[] {
    return [...this.objects];
  }

  /**
   * Deletes everything the run created. Idempotent (a second call returns the first call's outcome) and never
   * throws: failures are reported in the outcome so the caller can tell the user to run `kubectl netdiag cleanup`.
   */
  cleanup(): Promise<CleanupOutcome> {
    this.cleanupPromise ??= this.runCleanup();
    return this.cleanupPromise;
  }

  private async runCleanup(): Promise<CleanupOutcome> {
    const signal = AbortSignal.timeout(CLEANUP_TIMEOUT_MS);
    const failed: { resource: TrackedObject; error: string }[] = [];
    for (const finalizer of [...this.finalizers].reverse()) {
      await finalizer.run().catch(() => {
        // A finalizer failing (e.g. the remote process is already gone) must not stop pod deletion.
      });
    }
    const deleted: TrackedObject[] = [];
    await Promise.all(
      this.objects.map(async (object) => {
        try {
          if (object.kind === 'service') {
            await this.client.deleteService(object.namespace, object.name, { signal });
            deleted.push(object);
          }
          // Grace 0: helper pods hold no state, and a fast delete matters when the user is waiting on Ctrl-C.
          else if (await this.client.deletePod(object.namespace, object.name, { signal, gracePeriodSeconds: 0 }))
            deleted.push(object);
        } catch (err) {
          failed.push({ resource: object, error: err instanceof Error ? err.message : String(err) });
        }
      }),
    );
    return { deleted, failed };
  }
}
