/**
 * The probe plan, pure: which probe runs from which node to what, with which argv. The cluster's own paths are
 * always checked (pod→pod, pod→node, the test Service by pod IP, ClusterIP, NodePort and name, the `kubernetes`
 * Service, HTTP); the outside world only when the user names it. Large clusters are sampled with a stable hash ring
 * so two runs check the same pairs.
 */
import { createHash } from 'node:crypto';
import { CHECK_IDS, type ProbeCheckId } from './ids.js';
import { dfSizeForMtu, pingArgv } from './ping.js';

export type Layer = 'L3' | 'L4' | 'L7' | 'MTU' | 'external';

/** How a probe is run and how its output is read (src/check/outcome.ts). */
export type ProbeKind = 'ping' | 'tcp' | 'udp' | 'http';

export interface Probe {
  readonly id: ProbeCheckId;
  readonly layer: Layer;
  readonly kind: ProbeKind;
  /** The node whose probe pod runs it. */
  readonly from: string;
  /** Pair probes: the node at the other end (whose echo pod, address or NodePort rules are used). */
  readonly to?: string;
  /** What was probed, for people and `metrics.target`: `clusterip/udp`, `name`, `www.netdiag.test:8080`. */
  readonly target: string;
  readonly argv: readonly string[];
  /** Seconds after which the probe is stopped (exit 124, a timeout). */
  readonly timeoutSeconds: number;
  /** HTTP probes: any status passes (the point is that the server answered), not only 2xx/3xx. */
  readonly anyHttpStatus?: boolean;
}

/** Seconds a probe waits for an answer: short, since a healthy cluster answers in milliseconds. */
export const PROBE_WAIT_SECONDS = 2;

/** The ports of the echo server each node runs (src/check/echo.ts) and the test Service exposes. */
export const ECHO_PORTS = { http: 8080, echo: 9000 } as const;
/** The test Service's own ports: HTTP on 80 → 8080, TCP and UDP echo on 9000. */
export const SERVICE_PORTS = { http: 80, echo: 9000 } as const;

export interface EchoServer {
  readonly node: string;
  readonly podIP: string;
}

export interface PlannedNode {
  readonly name: string;
  readonly internalIP: string | undefined;
}

/** The test Service as created: its ClusterIP, its TCP echo NodePort, and the name pods resolve. */
export interface TestService {
  readonly clusterIP: string;
  readonly echoNodePort: number;
  /** `<name>.<namespace>.svc`: what a workload would write, through the pod's resolver and search path. */
  readonly dnsName: string;
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Outside targets the user asked for; all empty by default (air-gapped clusters see no failure they did not ask for). */
export interface OutsideTargets {
  readonly tcp: readonly HostPort[];
  readonly udp: readonly HostPort[];
  readonly urls: readonly string[];
  readonly ping: readonly string[];
}

export interface PlanInput {
  /** Nodes whose probe pod runs: the sources. */
  readonly sources: readonly string[];
  /** All selected nodes (the targets of pod→node and NodePort probes), with their InternalIPs. */
  readonly nodes: readonly PlannedNode[];
  /** The echo servers that run (a node without one is not a pod→pod or pod-IP target). */
  readonly echo: readonly EchoServer[];
  readonly service: TestService;
  /** The test Service has a ready endpoint: without one its probes (ClusterIP, NodePort, name, HTTP) are not planned. */
  readonly serviceReady: boolean;
  /** ClusterIP of `default/kubernetes`, when the API lists it. */
  readonly kubernetesClusterIP?: string;
  readonly outside: OutsideTargets;
  /** Peers per node; undefined: all. */
  readonly sample?: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Sampling

/** Up to this many nodes every pair is checked; above it, each node checks {@link DEFAULT_SAMPLE} peers. */
export const FULL_MESH_MAX_NODES = 50;
export const DEFAULT_SAMPLE = 10;

/** Where a node sits on the ring: the first 8 bytes of the SHA-256 of its name, so positions never change. */
const ringPosition = (node: string): bigint => createHash('sha256').update(node).digest().readBigUInt64BE(0);

/**
 * The peers `node` checks: every other node, or with `sample` the next `sample` nodes clockwise on a hash ring.
 * A ring keeps runs comparable (the same pairs every time) and adding a node changes only its neighbours' peers.
 */
export function peersOf(node: string, nodes: readonly string[], sample: number | undefined): string[] {
  const others = nodes.filter((other) => other !== node);
  if (sample === undefined || sample >= others.length) return others;
  const ring = [...new Set([...nodes, node])].sort((a, b) => {
    const pa = ringPosition(a);
    const pb = ringPosition(b);
    return pa < pb ? -1 : pa > pb ? 1 : a.localeCompare(b);
  });
  const start = ring.indexOf(node);
  const peers: string[] = [];
  for (let step = 1; peers.length < sample && step < ring.length; step += 1) {
    const peer = ring[(start + step) % ring.length] as string;
    if (others.includes(peer)) peers.push(peer);
  }
  return peers;
}

/** `--sample` as given, or the default for the cluster's size: all pairs up to {@link FULL_MESH_MAX_NODES}. */
export const effectiveSample = (requested: number | undefined, nodeCount: number): number | undefined =>
  requested ?? (nodeCount > FULL_MESH_MAX_NODES ? DEFAULT_SAMPLE : undefined);

export interface Coverage {
  /** Ordered pairs of different nodes checked. */
  readonly pairsChecked: number;
  /** Ordered pairs of different nodes there are: N·(N−1). */
  readonly pairsTotal: number;
  readonly sample?: number;
}

export function coverage(nodes: readonly string[], sample: number | undefined): Coverage {
  const pairsChecked = nodes.reduce((sum, node) => sum + peersOf(node, nodes, sample).length, 0);
  return {
    pairsChecked,
    pairsTotal: nodes.length * (nodes.length - 1),
    ...(sample === undefined ? {} : { sample }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Argv of each kind of probe

const QUICK_PING = { count: 3, deadlineSeconds: PROBE_WAIT_SECONDS, intervalSeconds: 0.2 } as const;

/** Formats host:port, bracketing IPv6 literals. */
export const hostPort = ({ host, port }: HostPort): string =>
  host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;

/** `nc -z` (netcat-openbsd): connect and close; `-v` prints the verdict that names refused/timeout/no route. */
export const tcpConnectArgv = ({ host, port }: HostPort): string[] => [
  'nc',
  '-z',
  '-v',
  '-w',
  String(PROBE_WAIT_SECONDS),
  host,
  String(port),
];

/** UDP: send one line (the batch's stdin) and print what comes back; an echo server sends the line back. */
export const udpExchangeArgv = ({ host, port }: HostPort): string[] => [
  'nc',
  '-u',
  '-w',
  String(PROBE_WAIT_SECONDS),
  host,
  String(port),
];

/** The marker curl prints after the body: `HTTP_CODE TIME_TOTAL` (seconds), the status line of our verdict. */
export const CURL_WRITE_OUT = '\nnetdiag-http %{http_code} %{time_total}\n';

/**
 * curl without following redirects (a redirect is an answer), without keeping the body (`-o /dev/null`); `-v`
 * because only its `* connect to … failed: Connection refused` line tells refused from no route (both exit 7).
 */
export const httpGetArgv = (url: string, insecure = false): string[] => [
  'curl',
  '-v',
  '-sS',
  ...(insecure ? ['-k'] : []),
  '-o',
  '/dev/null',
  '--connect-timeout',
  String(PROBE_WAIT_SECONDS),
  '--max-time',
  String(PROBE_WAIT_SECONDS * 2),
  '-w',
  CURL_WRITE_OUT,
  url,
];

const KIND_TIMEOUT_SECONDS: Readonly<Record<ProbeKind, number>> = {
  ping: PROBE_WAIT_SECONDS + 2,
  tcp: PROBE_WAIT_SECONDS + 2,
  udp: PROBE_WAIT_SECONDS + 2,
  http: PROBE_WAIT_SECONDS * 2 + 2,
};

function probe(fields: Omit<Probe, 'timeoutSeconds'>): Probe {
  return { ...fields, timeoutSeconds: KIND_TIMEOUT_SECONDS[fields.kind] };
}

const urlOf = (host: string, port: number, path = '/'): string =>
  `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;

// ---------------------------------------------------------------------------------------------------------------
// The plan

/** Every probe of a run except MTU (planned once the pod interfaces' MTUs are known: {@link planMtuProbes}). */
export function planProbes(input: PlanInput): Probe[] {
  const names = input.nodes.map((node) => node.name);
  const echoOn = new Map(input.echo.map((server) => [server.node, server]));
  const ipOf = new Map(input.nodes.map((node) => [node.name, node.internalIP]));
  const probes: Probe[] = [];
  for (const from of input.sources) {
    // The node itself first: pod→pod on the same node crosses the node's bridge/veths but not the underlay.
    for (const to of [from, ...peersOf(from, names, input.sample)]) {
      const echo = echoOn.get(to);
      if (echo) {
        probes.push(
          probe({
            id: CHECK_IDS.podToPod,
            layer: 'L3',
            kind: 'ping',
            from,
            to,
            target: echo.podIP,
            argv: pingArgv(echo.podIP, QUICK_PING),
          }),
          probe({
            id: CHECK_IDS.podIP,
            layer: 'L4',
            kind: 'tcp',
            from,
            to,
            target: hostPort({ host: echo.podIP, port: ECHO_PORTS.echo }),
            argv: tcpConnectArgv({ host: echo.podIP, port: ECHO_PORTS.echo }),
          }),
        );
      }
      const nodeIP = ipOf.get(to);
      if (nodeIP !== undefined) {
        probes.push(
          probe({
            id: CHECK_IDS.podToNode,
            layer: 'L3',
            kind: 'ping',
            from,
            to,
            target: nodeIP,
            argv: pingArgv(nodeIP, QUICK_PING),
          }),
        );
        const nodePort = { host: nodeIP, port: input.service.echoNodePort };
        if (input.serviceReady)
          probes.push(
            probe({
              id: CHECK_IDS.nodePort,
              layer: 'L4',
              kind: 'tcp',
              from,
              to,
              target: hostPort(nodePort),
              argv: tcpConnectArgv(nodePort),
            }),
          );
      }
    }
    probes.push(...serviceProbes(from, input), ...outsideProbes(from, input.outside));
  }
  return probes;
}

/** One node's view of the test Service and the `kubernetes` Service: each hop of the service path on its own. */
function serviceProbes(from: string, input: PlanInput): Probe[] {
  const { clusterIP, dnsName } = input.service;
  const echo = { host: clusterIP, port: SERVICE_PORTS.echo };
  const testService = [
    probe({
      id: CHECK_IDS.clusterIP,
      layer: 'L4',
      kind: 'tcp',
      from,
      target: 'clusterip/tcp',
      argv: tcpConnectArgv(echo),
    }),
    probe({
      id: CHECK_IDS.clusterIP,
      layer: 'L4',
      kind: 'udp',
      from,
      target: 'clusterip/udp',
      argv: udpExchangeArgv(echo),
    }),
    probe({
      id: CHECK_IDS.serviceName,
      layer: 'L4',
      kind: 'tcp',
      from,
      target: 'name',
      argv: tcpConnectArgv({ host: dnsName, port: SERVICE_PORTS.echo }),
    }),
    probe({
      id: CHECK_IDS.http,
      layer: 'L7',
      kind: 'http',
      from,
      target: 'clusterip',
      argv: httpGetArgv(urlOf(clusterIP, SERVICE_PORTS.http)),
    }),
    probe({
      id: CHECK_IDS.http,
      layer: 'L7',
      kind: 'http',
      from,
      target: 'name',
      argv: httpGetArgv(urlOf(dnsName, SERVICE_PORTS.http)),
    }),
  ];
  const probes = input.serviceReady ? testService : [];
  if (input.kubernetesClusterIP !== undefined) {
    // /livez is readable without credentials on default clusters; a 401/403 still proves the path works.
    probes.push(
      probe({
        id: CHECK_IDS.kubernetesService,
        layer: 'L7',
        kind: 'http',
        from,
        target: 'clusterip',
        argv: httpGetArgv(`https://${input.kubernetesClusterIP}:443/livez`, true),
        anyHttpStatus: true,
      }),
    );
  }
  return probes;
}

function outsideProbes(from: string, outside: OutsideTargets): Probe[] {
  return [
    ...outside.tcp.map((target) =>
      probe({
        id: CHECK_IDS.externalTcp,
        layer: 'external',
        kind: 'tcp',
        from,
        target: hostPort(target),
        argv: tcpConnectArgv(target),
      }),
    ),
    ...outside.udp.map((target) =>
      probe({
        id: CHECK_IDS.externalUdp,
        layer: 'external',
        kind: 'udp',
        from,
        target: `udp:${hostPort(target)}`,
        argv: udpExchangeArgv(target),
      }),
    ),
    ...outside.urls.map((url) =>
      probe({
        id: CHECK_IDS.externalHttp,
        layer: 'external',
        kind: 'http',
        from,
        target: url,
        argv: httpGetArgv(url),
      }),
    ),
    ...outside.ping.map((host) =>
      probe({
        id: CHECK_IDS.externalPing,
        layer: 'external',
        kind: 'ping',
        from,
        target: host,
        argv: pingArgv(host, QUICK_PING),
      }),
    ),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// MTU

/** A DF ping of `size` payload bytes from `from`'s probe pod to `to`'s echo pod. */
export function mtuProbe(from: string, to: string, podIP: string, size: number): Probe {
  return probe({
    id: CHECK_IDS.mtu,
    layer: 'MTU',
    kind: 'ping',
    from,
    to,
    target: podIP,
    // Two tries: the first DF packet may only teach the sender the path MTU (an ICMP "frag needed" comes back).
    // One second: a black-holed size fails by timing out, and the search runs a few rounds of them.
    argv: pingArgv(podIP, { count: 2, deadlineSeconds: 1, intervalSeconds: 0.2, dontFragmentSize: size }),
  });
}

export interface MtuPlanInput {
  readonly sources: readonly string[];
  readonly nodes: readonly string[];
  readonly echo: readonly EchoServer[];
  /** MTU of each node's pod interface (read from the probe pod; the echo pod on a node has the same network setup). */
  readonly podMtu: ReadonlyMap<string, number>;
  readonly sample?: number;
}

/**
 * A DF ping at the largest size both pod interfaces allow, for every checked pair of different nodes: the underlay
 * is only crossed between nodes.
 */
export function planMtuProbes(input: MtuPlanInput): Probe[] {
  const echoOn = new Map(input.echo.map((server) => [server.node, server]));
  const probes: Probe[] = [];
  for (const from of input.sources) {
    const fromMtu = input.podMtu.get(from);
    if (fromMtu === undefined) continue;
    for (const to of peersOf(from, input.nodes, input.sample)) {
      const echo = echoOn.get(to);
      const toMtu = input.podMtu.get(to) ?? fromMtu;
      if (echo) probes.push(mtuProbe(from, to, echo.podIP, dfSizeForMtu(Math.min(fromMtu, toMtu))));
    }
  }
  return probes;
}
