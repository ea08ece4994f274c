/**
 * Turning transport and API failures into operator errors. Pure functions over error shapes (no client-node import),
 * so each classification is unit-tested.
 */
import { environmentError, NetdiagError, usageError } from '../lib/errors.js';
import { formatDuration } from '../lib/duration.js';

/** A Kubernetes `Status` object as the API server returns it in error bodies and on exec channel 3. */
export interface ApiStatus {
  readonly kind?: string;
  readonly status?: string;
  readonly code?: number;
  readonly reason?: string;
  readonly message?: string;
  readonly details?: {
    readonly name?: string;
    readonly kind?: string;
    readonly causes?: readonly { readonly reason?: string; readonly message?: string; readonly field?: string }[];
  };
}

/** What a failed request is, independent of the library that made it. */
export type FailureKind =
  'unreachable' | 'tls' | 'timeout' | 'unauthorized' | 'forbidden' | 'not-found' | 'api' | 'other';

export interface ClassifiedFailure {
  readonly kind: FailureKind;
  /** HTTP status for API answers. */
  readonly httpStatus?: number;
  /** Node/undici error code for transport failures (ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT ...). */
  readonly code?: string;
  /** The API's Status, when it sent one. */
  readonly status?: ApiStatus;
  readonly message: string;
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
]);
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'ETIMEDOUT',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/** Digs the first error code out of undici's nesting: TypeError('fetch failed').cause, AggregateError.errors. */
export function transportCode(err: unknown, depth = 0): string | undefined {
  if (depth > 5 || typeof err !== 'object' || err === null) return undefined;
  const record = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof record.code === 'string' && record.code.length > 0) return record.code;
  if (Array.isArray(record.errors)) {
    for (const inner of record.errors) {
      const code = transportCode(inner, depth + 1);
      if (code) return code;
    }
  }
  return transportCode(record.cause, depth + 1);
}

/** undici says only "fetch failed"; the reason (e.g. "bad port") is in the innermost cause. */
function withInnerCause(err: unknown, message: string): string {
  let inner: unknown = err;
  for (
    let depth = 0;
    depth < 5 && typeof inner === 'object' && inner !== null && 'cause' in inner && inner.cause;
    depth++
  )
    inner = inner.cause;
  const innerMessage = inner instanceof Error ? inner.message : undefined;
  return innerMessage && innerMessage !== message ? `${message}: ${innerMessage}` : message;
}

/** Parses an error body (string or object) into a Status when it is one. */
export function parseApiStatus(body: unknown): ApiStatus | undefined {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as ApiStatus;
  // Error bodies have kind: Status; exec's channel-3 status often has only `status` ("Success"/"Failure").
  const isStatus = record.kind === 'Status' || typeof record.status === 'string' || typeof record.reason === 'string';
  return isStatus ? record : undefined;
}

export function classifyFailure(err: unknown): ClassifiedFailure {
  const record = (typeof err === 'object' && err !== null ? err : {}) as {
    code?: unknown;
    body?: unknown;
    name?: unknown;
    message?: unknown;
  };
  const message = typeof record.message === 'string' ? record.message : String(err);
  // Checked first: a DOMException also has a numeric `code` (23 for TimeoutError).
  if (record.name === 'TimeoutError') return { kind: 'timeout', message };
  // client-node's ApiException carries the HTTP status as a numeric `code` and the response text as `body`.
  if (typeof record.code === 'number') {
    const httpStatus = record.code;
    const status = parseApiStatus(record.body);
    const kind: FailureKind =
      httpStatus === 401 ? 'unauthorized' : httpStatus === 403 ? 'forbidden' : httpStatus === 404 ? 'not-found' : 'api';
    return { kind, httpStatus, status, message: status?.message ?? message };
  }
  const code = transportCode(err);
  if (code && TLS_CODES.has(code)) return { kind: 'tls', code, message };
  if (code && UNREACHABLE_CODES.has(code))
    return { kind: code === 'UND_ERR_CONNECT_TIMEOUT' ? 'timeout' : 'unreachable', code, message };
  return { kind: 'other', code, message: withInnerCause(err, message) };
}

/** Context for turning a failure into a message: which server, which identity, what we were doing. */
export interface FailureContext {
  readonly server: string;
  readonly contextName: string;
  readonly userName: string;
  /** e.g. "get pod default/web-1" — what the request was for. */
  readonly action: string;
  readonly requestTimeoutMs: number;
}

/**
 * The one-line cause and fix for a failed request. Callers that expect a specific 404 or 403 (unknown pod,
 * disabled feature, PodSecurity) check {@link classifyFailure} first and only fall back to this.
 */
export function toClusterError(err: unknown, ctx: FailureContext): NetdiagError {
  if (err instanceof NetdiagError) return err;
  const failure = classifyFailure(err);
  const options = { cause: err };
  switch (failure.kind) {
    case 'unreachable':
      return environmentError(
        `cannot reach the Kubernetes API at ${ctx.server} (${failure.code}) while trying to ${ctx.action}`,
        `check that the cluster is up and that context "${ctx.contextName}" points at the right server`,
        options,
      );
    case 'tls':
      return environmentError(
        `TLS verification of the API server at ${ctx.server} failed (${failure.code})`,
        `check certificate-authority(-data) of context "${ctx.contextName}" and that the server name is in its certificate`,
        options,
      );
    case 'timeout':
      return environmentError(
        `request to ${ctx.server} timed out${ctx.requestTimeoutMs > 0 ? ` after ${formatDuration(ctx.requestTimeoutMs)}` : ''} while trying to ${ctx.action}`,
        'check the network to the API server or raise --request-timeout',
        options,
      );
    case 'unauthorized':
      return environmentError(
        `the API server at ${ctx.server} rejected the credentials of user "${ctx.userName || '(none)'}" (401 Unauthorized)`,
        `refresh the token or client certificate of context "${ctx.contextName}" in your kubeconfig`,
        options,
      );
    case 'forbidden':
      return environmentError(
        `forbidden to ${ctx.action}: ${failure.message}`,
        'ask a cluster admin for this permission (docs/rbac.yaml lists what each command needs)',
        options,
      );
    case 'not-found':
      return usageError(
        `not found while trying to ${ctx.action}: ${failure.message}`,
        'check the name and the namespace (-n)',
      );
    case 'api':
      return environmentError(
        `the API server answered ${failure.httpStatus}${failure.status?.reason ? ` ${failure.status.reason}` : ''} while trying to ${ctx.action}: ${failure.message}`,
        'retry; if it persists check the API server health (kubectl get --raw /readyz)',
        options,
      );
    case 'other':
      return environmentError(
        `request to ${ctx.server} failed while trying to ${ctx.action}: ${failure.code ? `${failure.code} ` : ''}${failure.message}`,
        'run again with -v for details',
        options,
      );
  }
}
