/** Typed options of one `kubectl netdiag dns` run; the command builds them from flags (src/commands/dns.ts). */
export interface DnsOptions {
  /** Extra cluster names to look up (`--name`): must resolve to some address. */
  readonly names: readonly string[];
  /** External names (`--external`); empty with --no-external. */
  readonly externalNames: readonly string[];
  /** The external names are the built-in default: unresolvable means air-gapped (skip), not broken. */
  readonly externalIsDefault: boolean;
  /** A name whose answer needs TCP (`--large-name`), or undefined. */
  readonly largeName: string | undefined;
  /** Queries per resolver and protocol for latency, and C library lookups in a row (`--queries`). */
  readonly queries: number;
  /** Capture port 53 in the probe pods while a short external name is looked up (`--capture`). */
  readonly capture: boolean;
  /** Create a Service and time how long until its name resolves on every node (`--propagation`). */
  readonly propagation: boolean;
  /** How long --propagation waits for the name on a node before reporting it never resolved. */
  readonly propagationTimeoutMs: number;
}

/**
 * The default external name: the Kubernetes project's own site, which any cluster with Internet access resolves.
 * On an air-gapped cluster it does not, and the check is skipped rather than failed (--external names do fail).
 */
export const DEFAULT_EXTERNAL_NAME = 'kubernetes.io';

export const DEFAULT_QUERIES = 5;
export const MAX_QUERIES = 100;
export const DEFAULT_PROPAGATION_TIMEOUT_MS = 60_000;

/** `kubectl netdiag dns` with no flags (what doctor runs unless told otherwise). */
export const DEFAULT_DNS_OPTIONS: DnsOptions = {
  names: [],
  externalNames: [DEFAULT_EXTERNAL_NAME],
  externalIsDefault: true,
  largeName: undefined,
  queries: DEFAULT_QUERIES,
  capture: false,
  propagation: false,
  propagationTimeoutMs: DEFAULT_PROPAGATION_TIMEOUT_MS,
};
