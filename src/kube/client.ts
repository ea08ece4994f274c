/**
 * The ONE module that imports @kubernetes/client-node. Everything else talks to the cluster through {@link KubeClient}
 * and imports Kubernetes types from here.
 *
 * Every call takes an optional AbortSignal (the run's cancellation, passed down as a value) and is bounded by
 * `--request-timeout`. Failures come back as {@link NetdiagError}s with one line of cause and one of fix; callers
 * that expect a particular 403/404 pass `onFailure` to phrase it themselves.
 */
import { homedir } from 'node:os';
import {
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  Observable,
  VersionApi,
  type ConfigurationOptions,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
  Watch,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import type { RequestOptions } from 'node:https';
import { type NetdiagError, usageError } from '../lib/errors.js';
import type { StreamTarget } from './channel-socket.js';
import { sleep } from '../lib/signals.js';
import { classifyFailure, toClusterError, transportCode, type ClassifiedFailure } from './failures.js';
import {
  kubeconfigSource,
  mergeKubeconfigs,
  readKubeconfigFiles,
  selectAccess,
  singleContextDocument,
  type AccessSelection,
  type KubeAccessOptions,
  type MergedKubeconfig,
} from './kubeconfig.js';

export type {
  V1Capabilities,
  V1Container,
  V1ContainerPort,
  V1ContainerStatus,
  V1DaemonSet,
  V1Deployment,
  V1EndpointSlice,
  V1EphemeralContainer,
  V1LabelSelector,
  V1Namespace,
  V1Node,
  V1Pod,
  V1PodSpec,
  V1ReplicaSet,
  V1ResourceAttributes,
  V1ResourceRequirements,
  V1SecurityContext,
  V1Service,
  V1StatefulSet,
  V1Toleration,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
export type { KubeAccessOptions } from './kubeconfig.js';

/** Per-call options. */
export interface CallOptions {
  readonly signal?: AbortSignal;
  /** Lets a caller phrase an expected failure (e.g. 404 = unknown pod); return undefined for the generic message. */
  readonly onFailure?: (failure: ClassifiedFailure) => NetdiagError | undefined;
}

/** Server version as `/version` returns it. */
export interface ServerVersion {
  readonly gitVersion: string;
  readonly major: string;
  readonly minor: string;
  readonly platform: string;
}

/** Loads the kubeconfig like kubectl (see kubeconfig.ts) and applies the global flags. Pure of network access. */
export function resolveAccess(
  access: KubeAccessOptions,
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): { merged: MergedKubeconfig; selection: AccessSelection } {
  const merged = mergeKubeconfigs(readKubeconfigFiles(kubeconfigSource(access.kubeconfig, env, home), env));
  return { merged, selection: selectAccess(merged, access) };
}

/**
 * How long an API server that has answered this run may stay away (a restart, a control-plane failover) before
 * requests fail: a run that already talked to the server rides out its restart instead of failing its steps and
 * leaving its helper pods behind. A server never reached fails at once, as kubectl does (a wrong address).
 */
export const API_RESTART_GRACE_MS = 30_000;
/** Transport failures that prove the request never reached the server: sending it again is safe whatever it does. */
const NOT_SENT = new Set(['ECONNREFUSED']);
/** The connection broke during the request: only a read, or a delete (gone is gone), may be sent again. */
const BROKEN = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const REPEATABLE_METHODS = new Set(['GET', 'HEAD', 'DELETE']);

/**
 * Answers that say the server did not take the request in: 503 from an API server shutting down ("apiserver is
 * shutting down") or not ready yet, 429 when it sheds load. Sending it again is safe whatever it does.
 */
const NOT_TAKEN_STATUS = new Set([429, 503]);

/** Whether a failed request may be sent again: it never reached the server, or it changes nothing. */
function repeatable(err: unknown, method: string): boolean {
  const failure = classifyFailure(err);
  if (failure.httpStatus !== undefined) return NOT_TAKEN_STATUS.has(failure.httpStatus);
  const code = transportCode(err);
  if (code === undefined) return false;
  return NOT_SENT.has(code) || (BROKEN.has(code) && REPEATABLE_METHODS.has(method.toUpperCase()));
}

/** The pause before sending a failed request again, or undefined when it must fail now. Pure. */
export function retryDelay(err: unknown, method: string, attempt: number, failingForMs: number): number | undefined {
  if (!repeatable(err, method)) return undefined;
  const delay = Math.min(250 * 2 ** (attempt - 1), 2000);
  return failingForMs + delay <= API_RESTART_GRACE_MS ? delay : undefined;
}

export class KubeClient {
  /** The namespace commands act in: `-n`, else the context's, else `default`. */
  readonly namespace: string;
  readonly selection: AccessSelection;
  readonly requestTimeoutMs: number;
  private readonly kubeConfig: KubeConfig;
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly discovery: DiscoveryV1Api;
  private readonly authz: AuthorizationV1Api;
  private readonly versionApi: VersionApi;
  /**
   * API requests sent so far (calls, watches, exec sockets): `-v` prints it, benchmarks compare it. An object, so
   * views made with Object.create (sniff's PreflightAnswers) count into the same total.
   */
  private readonly sent = { requests: 0 };
  /**
   * client-node builds a new undici Agent (CA, client certificate) for every request, so every request would open
   * its own TLS connection: a burst of parallel requests paid one handshake each. Once the server has accepted the
   * credentials, the agent of that request serves the rest of the run (one HTTP/2 connection). Not before: the API
   * server closes the HTTP/2 connection of an unauthenticated client (GOAWAY), which would fail every request
   * multiplexed on it with a transport error instead of the 401. Requests sent while the first is in flight wait for
   * its answer. An object, shared with views as `sent` is.
   */
  private readonly connection: {
    dispatcher?: ReturnType<RequestContext['getDispatcher']>;
    trusted: boolean;
    first?: Promise<void>;
  } = { trusted: false };

  private constructor(selection: AccessSelection, requestTimeoutMs: number) {
    this.selection = selection;
    this.namespace = selection.namespace;
    this.requestTimeoutMs = requestTimeoutMs;
    this.kubeConfig = new KubeConfig();
    try {
      // JSON is YAML: client-node's own loader parses users (exec plugins, auth providers, tokens) exactly as usual.
      this.kubeConfig.loadFromString(JSON.stringify(singleContextDocument(selection)));
    } catch (err) {
      throw usageError(
        `context "${selection.contextName}" is not a valid kubeconfig entry: ${(err as Error).message}`,
        'fix the kubeconfig',
      );
    }
    this.core = this.kubeConfig.makeApiClient(CoreV1Api);
    this.apps = this.kubeConfig.makeApiClient(AppsV1Api);
    this.discovery = this.kubeConfig.makeApiClient(DiscoveryV1Api);
    this.authz = this.kubeConfig.makeApiClient(AuthorizationV1Api);
    this.versionApi = this.kubeConfig.makeApiClient(VersionApi);
  }

  /** Builds a client from the global flags. Throws usage errors (exit 2) for unknown names, env errors (exit 3) for missing files. */
  static fromAccess(
    access: KubeAccessOptions,
    env: NodeJS.ProcessEnv = process.env,
    home: string = homedir(),
  ): KubeClient {
    const { selection } = resolveAccess(access, env, home);
    return new KubeClient(selection, access.requestTimeoutMs);
  }

  /** The API server URL of the selected cluster. */
  get server(): string {
    return this.selection.server;
  }

  get contextName(): string {
    return this.selection.contextName;
  }

  /** How many API requests this client has sent (each call, watch and exec or attach socket counts one). */
  get requestCount(): number {
    return this.sent.requests;
  }

  private async call<T>(
    action: string,
    invoke: (options: ConfigurationOptions) => Promise<T>,
    options: CallOptions = {},
    extraHeaders: Readonly<Record<string, string>> = {},
  ): Promise<T> {
    const connection = this.connection;
    let settleFirst: (() => void) | undefined;
    if (!connection.trusted) {
      if (connection.first) await connection.first.catch(() => undefined);
      else connection.first = new Promise<void>((resolve) => (settleFirst = resolve));
    }
    let failingSince = 0;
    try {
      for (let attempt = 1; ; attempt++) {
        this.sent.requests += 1;
        const signals: AbortSignal[] = [];
        if (options.signal) signals.push(options.signal);
        if (this.requestTimeoutMs > 0) signals.push(AbortSignal.timeout(this.requestTimeoutMs));
        const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
        let method = 'GET';
        // The object-parameter APIs hand `options` to the Observable API, so middleware returns client-node's Observable.
        const middleware: ObservableMiddleware = {
          pre: (request: RequestContext) => {
            method = request.getHttpMethod();
            if (signal) request.setSignal(signal);
            if (connection.trusted && connection.dispatcher) request.setDispatcher(connection.dispatcher);
            else if (settleFirst) connection.dispatcher = request.getDispatcher();
            for (const [key, value] of Object.entries(extraHeaders)) request.setHeaderParam(key, value);
            return new Observable(Promise.resolve(request));
          },
          post: (response: ResponseContext) => {
            // Any answer but 401 means the server took the credentials.
            if (settleFirst && response.httpStatusCode !== 401) connection.trusted = true;
            return new Observable(Promise.resolve(response));
          },
        };
        try {
          return await invoke({ middleware: [middleware], middlewareMergeStrategy: 'append' });
        } catch (err) {
          // The run was cancelled: surface the abort reason itself so commands recognise an interruption.
          if (options.signal?.aborted) throw options.signal.reason;
          failingSince ||= Date.now();
          const wait = connection.trusted ? retryDelay(err, method, attempt, Date.now() - failingSince) : undefined;
          if (wait !== undefined) {
            await sleep(wait, options.signal);
            continue;
          }
          const specific = options.onFailure?.(classifyFailure(err));
          if (specific) throw specific;
          throw this.failureFor(err, action);
        }
      }
    } finally {
      if (settleFirst) {
        // Not trusted (no answer, or 401): the next request tries again on its own connection.
        if (!connection.trusted) connection.first = undefined;
        settleFirst();
      }
    }
  }

  /** The generic operator error (cause + fix naming server, context, user) for a failed request of this client. */
  failureFor(err: unknown, action: string): NetdiagError {
    return toClusterError(err, {
      server: this.server,
      contextName: this.contextName,
      userName: this.selection.userName,
      action,
      requestTimeoutMs: this.requestTimeoutMs,
    });
  }

  async serverVersion(options?: CallOptions): Promise<ServerVersion> {
    const info = await this.call('read the server version', (o) => this.versionApi.getCode({}, o), options);
    return { gitVersion: info.gitVersion, major: info.major, minor: info.minor, platform: info.platform };
  }

  readPod(namespace: string, name: string, options?: CallOptions): Promise<V1Pod> {
    return this.call(`get pod ${namespace}/${name}`, (o) => this.core.readNamespacedPod({ name, namespace }, o), {
      ...options,
      onFailure: (failure) =>
        options?.onFailure?.(failure) ??
        (failure.kind === 'not-found'
          ? usageError(
              `pod "${name}" not found in namespace "${namespace}"`,
              `list pods with \`kubectl get pods -n ${namespace}\``,
            )
          : undefined),
    });
  }

  async listPods(
    namespace: string | undefined,
    query: { labelSelector?: string; fieldSelector?: string },
    options?: CallOptions,
  ): Promise<V1Pod[]> {
    const list = await this.call(
      `list pods${namespace ? ` in ${namespace}` : ' in all namespaces'}`,
      (o) =>
        namespace
          ? this.core.listNamespacedPod({ namespace, ...query }, o)
          : this.core.listPodForAllNamespaces({ ...query }, o),
      options,
    );
    return list.items;
  }

  createPod(namespace: string, pod: V1Pod, options?: CallOptions): Promise<V1Pod> {
    return this.call(
      `create pod in ${namespace}`,
      (o) => this.core.createNamespacedPod({ namespace, body: pod }, o),
      options,
    );
  }

  /** Deletes a pod; a pod that is already gone counts as deleted (returns false). */
  async deletePod(
    namespace: string,
    name: string,
    options: CallOptions & { gracePeriodSeconds?: number } = {},
  ): Promise<boolean> {
    let gone = false;
    await this.call(
      `delete pod ${namespace}/${name}`,
      (o) => this.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: options.gracePeriodSeconds }, o),
      {
        ...options,
        onFailure: (failure) => {
          if (failure.kind === 'not-found') gone = true;
          return options.onFailure?.(failure);
        },
      },
    ).catch((err: unknown) => {
      if (!gone) throw err;
    });
    return !gone;
  }

  /**
   * Adds ephemeral containers with a STRATEGIC MERGE patch of `pods/ephemeralcontainers` (as kubectl debug does):
   * the generated client would send a JSON patch, so the Content-Type header is overridden here.
   */
  patchEphemeralContainers(namespace: string, name: string, patch: object, options?: CallOptions): Promise<V1Pod> {
    return this.call(
      `add an ephemeral container to pod ${namespace}/${name}`,
      (o) => this.core.patchNamespacedPodEphemeralcontainers({ name, namespace, body: patch }, o),
      options,
      { 'Content-Type': 'application/strategic-merge-patch+json' },
    );
  }

  readNamespace(name: string, options?: CallOptions) {
    return this.call(`get namespace ${name}`, (o) => this.core.readNamespace({ name }, o), options);
  }

  /** Creates a namespace (tests and scratch namespaces; commands never create namespaces behind the user's back). */
  createNamespace(name: string, labels: Readonly<Record<string, string>> = {}, options?: CallOptions) {
    return this.call(
      `create namespace ${name}`,
      (o) => this.core.createNamespace({ body: { metadata: { name, labels: { ...labels } } } }, o),
      options,
    );
  }

  /** Deletes a namespace and everything in it; a namespace already gone counts as deleted. */
  async deleteNamespace(name: string, options?: CallOptions): Promise<void> {
    let gone = false;
    await this.call(`delete namespace ${name}`, (o) => this.core.deleteNamespace({ name }, o), {
      ...options,
      onFailure: (failure) => {
        gone = failure.kind === 'not-found';
        return options?.onFailure?.(failure);
      },
    }).catch((err: unknown) => {
      if (!gone) throw err;
    });
  }

  async listNamespaces(options?: CallOptions) {
    return (await this.call('list namespaces', (o) => this.core.listNamespace({}, o), options)).items;
  }

  readNode(name: string, options?: CallOptions) {
    return this.call(`get node ${name}`, (o) => this.core.readNode({ name }, o), {
      ...options,
      onFailure: (failure) =>
        options?.onFailure?.(failure) ??
        (failure.kind === 'not-found'
          ? usageError(`node "${name}" not found`, 'list nodes with `kubectl get nodes`')
          : undefined),
    });
  }

  async listNodes(query: { labelSelector?: string } = {}, options?: CallOptions) {
    return (await this.call('list nodes', (o) => this.core.listNode({ ...query }, o), options)).items;
  }

  readService(namespace: string, name: string, options?: CallOptions) {
    return this.call(
      `get service ${namespace}/${name}`,
      (o) => this.core.readNamespacedService({ name, namespace }, o),
      options,
    );
  }

  async listServices(
    namespace: string | undefined,
    query: { labelSelector?: string; fieldSelector?: string } = {},
    options?: CallOptions,
  ) {
    return (
      await this.call(
        `list services${namespace ? ` in ${namespace}` : ' in all namespaces'}`,
        (o) =>
          namespace
            ? this.core.listNamespacedService({ namespace, ...query }, o)
            : this.core.listServiceForAllNamespaces({ ...query }, o),
        options,
      )
    ).items;
  }

  async listEndpointSlices(namespace: string, query: { labelSelector?: string } = {}, options?: CallOptions) {
    return (
      await this.call(
        `list endpointslices in ${namespace}`,
        (o) => this.discovery.listNamespacedEndpointSlice({ namespace, ...query }, o),
        options,
      )
    ).items;
  }

  readDeployment(namespace: string, name: string, options?: CallOptions) {
    return this.call(
      `get deployment ${namespace}/${name}`,
      (o) => this.apps.readNamespacedDeployment({ name, namespace }, o),
      options,
    );
  }

  readStatefulSet(namespace: string, name: string, options?: CallOptions) {
    return this.call(
      `get statefulset ${namespace}/${name}`,
      (o) => this.apps.readNamespacedStatefulSet({ name, namespace }, o),
      options,
    );
  }

  readDaemonSet(namespace: string, name: string, options?: CallOptions) {
    return this.call(
      `get daemonset ${namespace}/${name}`,
      (o) => this.apps.readNamespacedDaemonSet({ name, namespace }, o),
      options,
    );
  }

  readReplicaSet(namespace: string, name: string, options?: CallOptions) {
    return this.call(
      `get replicaset ${namespace}/${name}`,
      (o) => this.apps.readNamespacedReplicaSet({ name, namespace }, o),
      options,
    );
  }

  readConfigMap(namespace: string, name: string, options?: CallOptions) {
    return this.call(
      `get configmap ${namespace}/${name}`,
      (o) => this.core.readNamespacedConfigMap({ name, namespace }, o),
      options,
    );
  }

  async listDaemonSets(namespace: string, query: { labelSelector?: string } = {}, options?: CallOptions) {
    return (
      await this.call(
        `list daemonsets in ${namespace}`,
        (o) => this.apps.listNamespacedDaemonSet({ namespace, ...query }, o),
        options,
      )
    ).items;
  }

  async listDeployments(namespace: string, query: { labelSelector?: string } = {}, options?: CallOptions) {
    return (
      await this.call(
        `list deployments in ${namespace}`,
        (o) => this.apps.listNamespacedDeployment({ namespace, ...query }, o),
        options,
      )
    ).items;
  }

  /** The recent log of a pod's container (`kubectl logs --since --tail`). */
  readPodLog(
    namespace: string,
    name: string,
    query: { container?: string; sinceSeconds?: number; tailLines?: number },
    options?: CallOptions,
  ): Promise<string> {
    return this.call(
      `read the log of pod ${namespace}/${name}`,
      (o) => this.core.readNamespacedPodLog({ name, namespace, ...query }, o),
      options,
    );
  }

  createService(namespace: string, service: V1Service, options?: CallOptions): Promise<V1Service> {
    return this.call(
      `create service in ${namespace}`,
      (o) => this.core.createNamespacedService({ namespace, body: service }, o),
      options,
    );
  }

  /** Deletes a Service; one already gone counts as deleted. */
  async deleteService(namespace: string, name: string, options?: CallOptions): Promise<void> {
    let gone = false;
    await this.call(
      `delete service ${namespace}/${name}`,
      (o) => this.core.deleteNamespacedService({ name, namespace }, o),
      {
        ...options,
        onFailure: (failure) => {
          gone = failure.kind === 'not-found';
          return options?.onFailure?.(failure);
        },
      },
    ).catch((err: unknown) => {
      if (!gone) throw err;
    });
  }

  /** Asks the API server whether ANOTHER identity (e.g. a system service account) may do one thing (SubjectAccessReview). */
  async canUser(
    user: string,
    groups: readonly string[],
    attributes: { verb: string; resource: string; group?: string; namespace?: string },
    options?: CallOptions,
  ): Promise<boolean> {
    const review = await this.call(
      `check what ${user} may ${attributes.verb} ${attributes.resource}`,
      (o) =>
        this.authz.createSubjectAccessReview(
          {
            body: {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SubjectAccessReview',
              spec: { user, groups: [...groups], resourceAttributes: attributes },
            },
          },
          o,
        ),
      options,
    );
    return review.status?.allowed === true;
  }

  /** Asks the API server whether the current identity may do one thing (SelfSubjectAccessReview). */
  async canI(
    attributes: {
      verb: string;
      resource: string;
      subresource?: string;
      namespace?: string;
      group?: string;
      name?: string;
    },
    options?: CallOptions,
  ): Promise<{ allowed: boolean; reason?: string }> {
    const review = await this.call(
      `check permission ${attributes.verb} ${attributes.resource}`,
      (o) =>
        this.authz.createSelfSubjectAccessReview(
          {
            body: {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SelfSubjectAccessReview',
              spec: { resourceAttributes: attributes },
            },
          },
          o,
        ),
      options,
    );
    return { allowed: review.status?.allowed === true, reason: review.status?.reason };
  }

  /**
   * Watches one pod and calls `check` with every new state (and `undefined` when the pod is deleted) until `check`
   * returns a value, which is then returned; if `check` throws, the watch stops and the error is rethrown. Starts
   * with a GET so a state reached before the watch is not missed (or with `initial`, the pod a create or patch just
   * returned: then the watch starts from its resourceVersion, one request fewer before the first event), and
   * re-lists + re-watches when the server closes the watch. Bound the wait with the signal (e.g.
   * `AbortSignal.any([run, AbortSignal.timeout(ms)])`); it rejects with the signal's reason. A watch the API refuses
   * (403 ...) is an error, not a reason to retry.
   */
  async watchPod<T>(
    namespace: string,
    name: string,
    check: (pod: V1Pod | undefined) => T | undefined,
    signal: AbortSignal,
    initial?: V1Pod,
  ): Promise<T> {
    let known = initial;
    for (;;) {
      if (signal.aborted) throw signal.reason;
      let gone = false;
      const fresh = known;
      known = undefined;
      const pod =
        fresh ??
        (await this.readPod(namespace, name, {
          signal,
          onFailure: (failure) => {
            gone = failure.kind === 'not-found';
            return undefined;
          },
        }).catch((err: unknown) => {
          if (!gone) throw err;
          return undefined;
        }));
      const first = check(pod);
      const watchStarted = Date.now();
      if (first !== undefined) return first;
      const outcome = await this.watchOnce<T>(
        namespace,
        { fieldSelector: `metadata.name=${name}`, resourceVersion: pod?.metadata?.resourceVersion },
        (phase, object) => check(phase === 'DELETED' ? undefined : object),
        signal,
        `watch pod ${namespace}/${name}`,
      );
      if ('value' in outcome) return outcome.value;
      if ('error' in outcome) throw outcome.error;
      // A watch that keeps closing at once (flapping network) must not become a busy loop of GETs.
      if (Date.now() - watchStarted < 1000) await sleep(1000, signal);
    }
  }

  /**
   * ONE list+watch of the pods matching `labelSelector`, however many there are (a fleet of 500 helper pods must not
   * open 500 watches). `onChange` gets every pod currently known, by name, after the list and after each event;
   * when it returns a value the watch ends and that value is returned. Re-lists when the server closes the watch;
   * rejects with the signal's reason when aborted, and at once when the API refuses the list or the watch.
   */
  async watchPods<T>(
    namespace: string,
    labelSelector: string,
    onChange: (pods: ReadonlyMap<string, V1Pod>) => T | undefined,
    signal: AbortSignal,
  ): Promise<T> {
    for (;;) {
      if (signal.aborted) throw signal.reason;
      const list = await this.call(
        `list pods in ${namespace}`,
        (o) => this.core.listNamespacedPod({ namespace, labelSelector }, o),
        { signal },
      );
      const pods = new Map(list.items.map((pod) => [pod.metadata?.name ?? '', pod]));
      const first = onChange(pods);
      const watchStarted = Date.now();
      if (first !== undefined) return first;
      const outcome = await this.watchOnce<T>(
        namespace,
        { labelSelector, resourceVersion: list.metadata?.resourceVersion },
        (phase, object) => {
          const name = object.metadata?.name ?? '';
          if (phase === 'DELETED') pods.delete(name);
          else pods.set(name, object);
          return onChange(pods);
        },
        signal,
        `watch pods in ${namespace}`,
      );
      if ('value' in outcome) return outcome.value;
      if ('error' in outcome) throw outcome.error;
      if (Date.now() - watchStarted < 1000) await sleep(1000, signal);
    }
  }

  /**
   * One watch request on a namespace's pods until `onEvent` returns a value or throws, the server closes it
   * (`closed`: the caller lists again), the API refuses it, or the signal aborts.
   */
  private watchOnce<T>(
    namespace: string,
    query: { fieldSelector?: string; labelSelector?: string; resourceVersion?: string },
    onEvent: (phase: string, object: V1Pod) => T | undefined,
    signal: AbortSignal,
    action: string,
  ): Promise<{ value: T } | { error: unknown } | { closed: true }> {
    this.sent.requests += 1;
    return new Promise((resolve) => {
      let controller: AbortController | undefined;
      const onAbort = () => {
        controller?.abort();
        resolve({ error: signal.reason });
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const finish = (result: { value: T } | { error: unknown } | { closed: true }) => {
        signal.removeEventListener('abort', onAbort);
        controller?.abort();
        resolve(result);
      };
      new Watch(this.kubeConfig)
        .watch(
          `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
          { ...query, allowWatchBookmarks: true },
          (phase, object: V1Pod) => {
            if (phase === 'BOOKMARK' || phase === 'ERROR') return;
            // client-node swallows exceptions thrown by this callback, so a throwing check is caught here.
            try {
              const value = onEvent(phase, object);
              if (value !== undefined) finish({ value });
            } catch (error) {
              finish({ error });
            }
          },
          (err: unknown) => {
            const status = (err as { statusCode?: unknown } | null)?.statusCode;
            if (typeof status === 'number') {
              finish({ error: this.failureFor({ code: status, body: undefined, message: String(err) }, action) });
              return;
            }
            // A closed watch (server timeout, 410 Gone, network blip) is not an error: list again and re-watch.
            finish({ closed: true });
          },
        )
        .then((c) => {
          controller = c;
          if (signal.aborted) c.abort();
        })
        .catch((error: unknown) => finish({ error }));
    });
  }

  /**
   * URL and TLS/auth options for a WebSocket to an API path (exec, attach), taken from the kubeconfig exactly as
   * client-node applies them to its own requests (CA, client cert/key, bearer token or exec-plugin token, proxy agent).
   */
  async streamTarget(path: string, query: URLSearchParams): Promise<StreamTarget> {
    this.sent.requests += 1;
    const url = `${this.server.replace(/\/$/, '')}${path}?${query.toString()}`;
    const options: RequestOptions = {};
    await this.kubeConfig.applyToHTTPSOptions(options);
    return { url, options };
  }

  /** Context, cluster and user names of the merged kubeconfig, for completion. */
  static kubeconfigNames(access: KubeAccessOptions, env: NodeJS.ProcessEnv = process.env) {
    const merged = mergeKubeconfigs(readKubeconfigFiles(kubeconfigSource(access.kubeconfig, env, homedir()), env));
    return {
      contexts: merged.contexts.map((entry) => entry.name),
      clusters: merged.clusters.map((entry) => entry.name),
      users: merged.users.map((entry) => entry.name),
    };
  }
}
