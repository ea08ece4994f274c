/**
 * A capture in a node's network namespace (node/NAME, a hostNetwork pod) sees its own stream: the packets it sends
 * travel from the runtime's streaming server to the kubelet over loopback, and from the kubelet to the API server,
 * on that very node. Captured, they make more traffic, which is captured... (on the idle lab: 1,143 packets dropped
 * by the kernel in 5 s). So by default the filter leaves out both legs, as narrowly as can be known:
 *  - kubelet ↔ API server: TCP between the kubelet's port (node.status.daemonEndpoints) and the API server's
 *    addresses (the `kubernetes` Service's EndpointSlices), both read from the API;
 *  - runtime streaming server ↔ kubelet: TCP on loopback to the port the runtime listens on, which no API tells;
 *    a helper with the host's PID namespace finds it on the node ({@link RUNTIME_STREAM_SCRIPT}).
 * Everything stays argv: the filter is one argument to tcpdump, never re-parsed by a shell.
 */
import type { TcpdumpSpec } from './tcpdump.js';

/** What the API says about the capture's own stream on the node(s) it runs on. */
export interface SelfStream {
  /** The kubelet's port per node name. */
  readonly kubeletPorts: ReadonlyMap<string, number>;
  /** Addresses of the API server (every endpoint of the `kubernetes` Service). */
  readonly apiServers: readonly string[];
}

/** The kubelet ↔ API server leg as a BPF expression, or undefined when the API told too little. Pure. */
export function apiLegExpression(kubeletPort: number | undefined, apiServers: readonly string[]): string | undefined {
  if (kubeletPort === undefined || apiServers.length === 0) return undefined;
  const hosts = (direction: 'src' | 'dst') => apiServers.map((ip) => `${direction} host ${ip}`).join(' or ');
  return (
    `tcp and (((${hosts('src')}) and dst port ${kubeletPort}) or ` + `((${hosts('dst')}) and src port ${kubeletPort}))`
  );
}

/** `(FILTER) and not (EXCLUSION)`; either may be missing. Pure. */
export function withExclusion(filter: string | undefined, exclusion: string | undefined): string | undefined {
  const user = filter?.trim() ? filter.trim() : undefined;
  if (exclusion === undefined) return user;
  return user === undefined ? `not (${exclusion})` : `(${user}) and not (${exclusion})`;
}

/** The tcpdump spec of a host-network capture on `nodeName` with the API leg left out. Pure. */
export function excludeApiLeg(spec: TcpdumpSpec, self: SelfStream, nodeName: string): TcpdumpSpec {
  return {
    ...spec,
    filter: withExclusion(spec.filter, apiLegExpression(self.kubeletPorts.get(nodeName), self.apiServers)),
  };
}

/** One line for stderr: what is left out and how to keep it. Pure. */
export function describeExclusion(self: SelfStream, nodeName: string, loopback: boolean): string {
  const port = self.kubeletPorts.get(nodeName);
  const parts: string[] = [];
  if (port !== undefined && self.apiServers.length > 0)
    parts.push(`kubelet :${port} ↔ API server ${self.apiServers.join(', ')}`);
  if (loopback) parts.push('runtime streaming server ↔ kubelet on 127.0.0.1 (port found on the node)');
  if (parts.length === 0) return `node/${nodeName}: the capture's own stream could not be identified; it is captured`;
  return `node/${nodeName}: leaving out the capture's own stream (${parts.join('; ')}); --include-self keeps it`;
}

/** What the stream script writes on stderr, once, naming the runtime's streaming ports it left out. */
export const RUNTIME_STREAM_MARKER = 'netdiag-self-exclusion';

/**
 * Runs the capture argv with the runtime streaming server's loopback port(s) left out of its filter. $1 is the filter
 * so far ('' for none), the rest is the tcpdump argv without a filter; the final filter is appended as ONE argument.
 * The port is the one a container runtime (containerd, cri-o, cri-dockerd, dockerd) listens on at 127.0.0.1, as `ss`
 * with process names tells it in the host's PID namespace; only digits are ever put into the filter. When no port is
 * found the capture runs with the filter it was given, and says so.
 */
export const RUNTIME_STREAM_SCRIPT = [
  'filter=$1; shift',
  'ports=$(ss -Hltnp 2>/dev/null | awk \'$4 ~ /^127\\.0\\.0\\.1:[0-9]+$/ && $0 ~ /users:\\(\\("(containerd|crio|cri-dockerd|dockerd)"/ { split($4, a, ":"); print a[2] }\' | sort -un)',
  'loop=',
  'for p in $ports; do',
  '  case $p in *[!0-9]*|"") continue ;; esac',
  '  loop="${loop:+$loop or }port $p"',
  'done',
  'if [ -n "$loop" ]; then',
  `  echo "${RUNTIME_STREAM_MARKER} 127.0.0.1 $(echo $ports)" >&2`,
  '  ex="tcp and src host 127.0.0.1 and dst host 127.0.0.1 and ($loop)"',
  '  if [ -n "$filter" ]; then filter="($filter) and not ($ex)"; else filter="not ($ex)"; fi',
  'else',
  `  echo "${RUNTIME_STREAM_MARKER} none" >&2`,
  'fi',
  'if [ -n "$filter" ]; then exec "$@" "$filter"; else exec "$@"; fi',
].join('\n');

/** `sh -c RUNTIME_STREAM_SCRIPT netdiag-self FILTER TCPDUMP_ARGV...` (the argv must not carry a filter). */
export function runtimeStreamArgv(filter: string | undefined, tcpdumpWithoutFilter: readonly string[]): string[] {
  return ['sh', '-c', RUNTIME_STREAM_SCRIPT, 'netdiag-self', filter ?? '', ...tcpdumpWithoutFilter];
}
