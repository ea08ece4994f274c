/**
 * Why a probe failed, in the words every check uses for `metrics.reason`, and the phrases ping, nc and curl print for
 * each (read from their real output: test/fixtures/check). One table, so a ping and a TCP probe that hit the same
 * wall report the same reason.
 */

export type FailureReason =
  /** Nothing came back before the deadline: dropped somewhere (firewall DROP, black hole, a down host). */
  | 'timeout'
  /** The target's host answered with a TCP reset or ICMP port unreachable: reachable, nothing listening. */
  | 'refused'
  /** No route: the sender's routing table has none, or a router answered "host/network unreachable". */
  | 'no-route'
  /** The name did not resolve. */
  | 'unresolved'
  /** A DF packet larger than the sender's interface or cached path MTU (`local error: message too long, mtu=N`). */
  | 'message-too-long'
  /** A router on the way answered "fragmentation needed" for a DF packet. */
  | 'frag-needed'
  /** A firewall answered with ICMP "administratively prohibited". */
  | 'filtered'
  /** UDP: no answer and no ICMP error; a service that does not answer arbitrary data looks the same. */
  | 'no-reply'
  /** The server answered with this HTTP status (4xx, 5xx). */
  | `http-${number}`
  /** The tool itself failed (bad option, no permission for raw sockets); the output says what. */
  | 'error';

/** Phrases, most specific first. */
const PHRASES: readonly (readonly [RegExp, FailureReason])[] = [
  [/message too long/i, 'message-too-long'],
  [/frag(mentation)? needed/i, 'frag-needed'],
  [/packet filtered|administratively prohibited|communication prohibited/i, 'filtered'],
  [
    // curl's "Resolving timed out": the resolver never answered, so the name did not resolve — nothing was sent to
    // the target (a timeout would read as a firewall on the way out).
    /name or service not known|bad address|could not resolve host|temporary failure in name resolution|no address associated|resolving timed out/i,
    'unresolved',
  ],
  [/connection refused/i, 'refused'],
  [/network is unreachable|host unreachable|net unreachable|no route to host/i, 'no-route'],
  [/timed out|timeout was reached/i, 'timeout'],
];

/** The reason a tool's output names, if any, with the line that names it (the evidence worth showing). */
export function reasonInText(text: string): { reason: FailureReason; line: string } | undefined {
  const lines = text.split('\n').map((line) => line.trim());
  for (const [pattern, reason] of PHRASES) {
    const line = lines.find((candidate) => pattern.test(candidate));
    if (line !== undefined) return { reason, line };
  }
  return undefined;
}
