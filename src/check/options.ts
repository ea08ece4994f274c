/**
 * What `check` is asked to do, typed, and the pure parsing of what the user typed for the outside world. Targets end
 * up as argv words of nc, curl and ping, so every one is validated here: a host that starts with `-` would be an
 * option to them.
 */
import { usageError } from '../lib/errors.js';
import type { HostPort, OutsideTargets } from './probes.js';

export interface CheckOptions {
  /** Outside targets; empty unless the user named some or asked for `--external`. */
  readonly outside: OutsideTargets;
  /** `--sample K`: peers per node; undefined: all pairs up to 50 nodes, then the default sample. */
  readonly sample?: number;
  /** Probes a probe pod runs at once. */
  readonly parallel: number;
  /** Skip the MTU matrix (DF pings and the search). */
  readonly skipMtu: boolean;
}

export const DEFAULT_PARALLEL = 16;

/**
 * `--external`: a small set of public targets that answer without credentials, from different operators, so one
 * provider's outage is not reported as the cluster's egress failing. Documented in docs/check.md.
 */
export const WELL_KNOWN_EXTERNAL: OutsideTargets = {
  tcp: [
    { host: '1.1.1.1', port: 443 },
    { host: '8.8.8.8', port: 443 },
  ],
  udp: [],
  urls: ['https://www.google.com/generate_204', 'https://www.cloudflare.com/cdn-cgi/trace'],
  ping: ['8.8.8.8'],
};

const LABEL = '[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const HOSTNAME = new RegExp(`^${LABEL}(\\.${LABEL})*\\.?$`);
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$/;

/** A host name, IPv4 address or (bare) IPv6 address, or undefined when it is none of them. */
function validHost(host: string): string | undefined {
  if (IPV4.test(host) || IPV6.test(host)) return host;
  // Not all digits and dots: 999.1.1.1 is a mistyped address, not a name.
  if (HOSTNAME.test(host) && !/^[\d.]+$/.test(host)) return host;
  return undefined;
}

/** `host:port` or `[v6]:port`. */
function parseHostPort(text: string, flag: string, example: string): HostPort {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const host = match ? validHost(match[1] ?? match[2] ?? '') : undefined;
  const port = match ? Number(match[3]) : 0;
  if (host === undefined || port < 1 || port > 65535) {
    throw usageError(`--${flag} ${JSON.stringify(text)} is not host:port`, `write it like ${example}`);
  }
  return { host, port };
}

/** `--target`: `host:port` (TCP) or `udp:host:port`. */
export function parseTarget(text: string): { protocol: 'tcp' | 'udp'; target: HostPort } {
  const udp = text.startsWith('udp:');
  const rest = udp ? text.slice('udp:'.length) : text.startsWith('tcp:') ? text.slice('tcp:'.length) : text;
  return {
    protocol: udp ? 'udp' : 'tcp',
    target: parseHostPort(rest, 'target', 'www.example.com:443, 10.0.0.5:8080 or udp:10.0.0.53:53'),
  };
}

/** `--url`: an http or https URL. */
export function parseUrl(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || /\s/.test(text)) {
    throw usageError(`--url ${JSON.stringify(text)} is not an http(s) URL`, 'write it like http://www.example.com/');
  }
  return url.href;
}

/** `--ping`: a host name or address. */
export function parsePingHost(text: string): string {
  const host = validHost(text.replace(/^\[(.*)\]$/, '$1'));
  if (host === undefined) {
    throw usageError(
      `--ping ${JSON.stringify(text)} is not a host name or address`,
      'write it like www.example.com or 10.0.0.1',
    );
  }
  return host;
}

export interface OutsideFlags {
  readonly target?: readonly string[];
  readonly url?: readonly string[];
  readonly ping?: readonly string[];
  readonly external?: boolean;
}

/** The outside targets from the flags, with the well-known set when `--external`; duplicates dropped. */
export function outsideTargets(flags: OutsideFlags): OutsideTargets {
  const targets = (flags.target ?? []).map(parseTarget);
  const asked: OutsideTargets = {
    tcp: targets.filter((t) => t.protocol === 'tcp').map((t) => t.target),
    udp: targets.filter((t) => t.protocol === 'udp').map((t) => t.target),
    urls: (flags.url ?? []).map(parseUrl),
    ping: (flags.ping ?? []).map(parsePingHost),
  };
  const extra = flags.external === true ? WELL_KNOWN_EXTERNAL : { tcp: [], udp: [], urls: [], ping: [] };
  const uniqueHostPorts = (list: readonly HostPort[]) => [
    ...new Map(list.map((entry) => [`${entry.host} ${entry.port}`, entry])).values(),
  ];
  return {
    tcp: uniqueHostPorts([...asked.tcp, ...extra.tcp]),
    udp: uniqueHostPorts([...asked.udp, ...extra.udp]),
    urls: [...new Set([...asked.urls, ...extra.urls])],
    ping: [...new Set([...asked.ping, ...extra.ping])],
  };
}

/** `--sample K`: a positive whole number of peers. */
export function parseSample(value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1) {
    throw usageError(
      `--sample ${value} is not a positive number of peers`,
      'use --sample 5, or leave it out to check all pairs',
    );
  }
  return value;
}
