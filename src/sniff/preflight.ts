/**
 * Preflight without waiting in line: the questions preflight asks (access reviews, PodSecurity levels, the server
 * version) are each asked once per run and remembered, so the run can ask them while the capture targets are still
 * being resolved, for the namespace a pod target is in unless -A says otherwise, and preflight then finds them
 * answered or on their way.
 */
import type { KubeClient } from '../kube/client.js';
import { readPodSecurity, type PodSecurityInfo } from '../kube/preflight.js';

export class PreflightAnswers {
  /** The client preflight talks through: access reviews and the server version come from the answers here. */
  readonly client: KubeClient;
  private readonly asked = new Map<string, Promise<unknown>>();

  constructor(
    private readonly base: KubeClient,
    private readonly signal: AbortSignal,
  ) {
    // A view of the same client with two methods answered from here; everything else is the client's own.
    const view = Object.create(base) as KubeClient;
    view.canI = (attributes, options) =>
      this.once(`canI ${JSON.stringify(attributes)}`, () => base.canI(attributes, options));
    view.serverVersion = (options) => this.once('version', () => base.serverVersion(options));
    this.client = view;
  }

  /** The PodSecurity level of `namespace` (readPodSecurity), read once. */
  podSecurity(namespace: string): Promise<PodSecurityInfo> {
    return this.once(`podsecurity ${namespace}`, () => readPodSecurity(this.base, namespace, { signal: this.signal }));
  }

  private once<T>(key: string, ask: () => Promise<T>): Promise<T> {
    let answer = this.asked.get(key) as Promise<T> | undefined;
    if (answer === undefined) {
      answer = ask();
      // Asked ahead, it may never be awaited (the target was elsewhere): its failure is not an unhandled one.
      answer.catch(() => undefined);
      this.asked.set(key, answer);
    }
    return answer;
  }
}
