/**
 * Parsers of what collect.ts's scripts print on a node: daemon command lines and configs (kubelet, the runtime,
 * kube-proxy), `ip -j -d addr/route`, sysctls, `conntrack -S`, `iptables-save`, kube-proxy's nftables map, CNI config
 * files and the containers the runtime runs. Pure; tested on output captured from the lab (test/fixtures/node/).
 */
import { parse as parseYaml } from 'yaml';
import { TomlDocument } from './toml.js';
import type { FirewallBackend, FirewallRule } from './counters.js';
import { okOutput, sectionsNamed, type Sections } from './sections.js';

// ---------------------------------------------------------------------------------------------------------------
// discover: the node's daemons

export interface DaemonProcess {
  readonly pid: number;
  readonly comm: string;
  readonly argv: readonly string[];
  /** Config files read through the process's own root: path → content. */
  readonly files: ReadonlyMap<string, string>;
}

export function parseDaemons(sections: Sections): DaemonProcess[] {
  const files = new Map<number, Map<string, string>>();
  for (const { key, section } of sectionsNamed(sections, 'file')) {
    const match = /^(\d+) (.+)$/.exec(key);
    if (!match || section.status !== 0) continue;
    const pid = Number(match[1]);
    const byPath = files.get(pid) ?? new Map<string, string>();
    byPath.set(match[2] ?? '', section.output);
    files.set(pid, byPath);
  }
  const daemons: DaemonProcess[] = [];
  for (const { key, section } of sectionsNamed(sections, 'process')) {
    const match = /^(\d+) (\S+)$/.exec(key);
    if (!match) continue;
    const pid = Number(match[1]);
    const argv = section.output.split('\n').filter((arg, i, all) => arg !== '' || i < all.length - 1);
    daemons.push({ pid, comm: match[2] ?? '', argv, files: files.get(pid) ?? new Map() });
  }
  return daemons;
}

/** `--name=value` or `--name value` (the last one wins, as in Go's flag package). */
export function flagValue(argv: readonly string[], names: readonly string[]): string | undefined {
  let value: string | undefined;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    for (const name of names) {
      if (arg.startsWith(`${name}=`)) value = arg.slice(name.length + 1);
      else if (arg === name && i + 1 < argv.length) value = argv[i + 1];
    }
  }
  return value;
}

/** The config file a daemon was started with (the first file read for it), parsed by `parse`. */
function configOf(daemon: DaemonProcess, flags: readonly string[]): { path: string; text: string } | undefined {
  const named = flagValue(daemon.argv, flags);
  for (const [path, text] of daemon.files) {
    if (named === undefined || path === named || path.endsWith(`/${named}`)) return { path, text };
  }
  return undefined;
}

function yamlObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = parseYaml(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

// ---------------------------------------------------------------------------------------------------------------
// kubelet → the runtime endpoint

/** kubelet's default since 1.27 (the flag's old default, the dockershim socket, is gone). */
export const DEFAULT_RUNTIME_ENDPOINT = 'unix:///run/containerd/containerd.sock';

export interface KubeletSettings {
  readonly pid: number;
  readonly configPath?: string;
  readonly runtimeEndpoint: string;
  readonly runtimeEndpointFrom: 'flag' | 'config' | 'default';
}

export function kubeletSettings(daemon: DaemonProcess): KubeletSettings {
  const config = configOf(daemon, ['--config']);
  const flag = flagValue(daemon.argv, ['--container-runtime-endpoint']);
  const fromConfig = config ? str(yamlObject(config.text)['containerRuntimeEndpoint']) : undefined;
  const runtimeEndpoint = flag ?? fromConfig ?? DEFAULT_RUNTIME_ENDPOINT;
  return {
    pid: daemon.pid,
    configPath: config?.path,
    runtimeEndpoint,
    runtimeEndpointFrom: flag ? 'flag' : fromConfig ? 'config' : 'default',
  };
}

/** `unix:///run/x.sock` → `/run/x.sock`; /var/run is /run on every current distribution. */
export function socketPath(endpoint: string): string {
  return endpoint.replace(/^unix:\/\//, '').replace(/^\/var\/run\//, '/run/');
}

// ---------------------------------------------------------------------------------------------------------------
// the runtime → its socket, state and CNI directories

export type RuntimeName = 'containerd' | 'cri-o' | 'docker' | 'unknown';

export interface RuntimeSettings {
  readonly name: RuntimeName;
  readonly pid?: number;
  readonly configPath?: string;
  readonly socket?: string;
  /** containerd's state directory (task bundles of running containers). */
  readonly state?: string;
  readonly cniConfDir: string;
  readonly cniBinDirs: readonly string[];
  /** Where the CNI directories came from: the runtime's config file, its flags, or the defaults. */
  readonly cniDirsFrom: string;
}

export const DEFAULT_CNI_CONF_DIR = '/etc/cni/net.d';
export const DEFAULT_CNI_BIN_DIR = '/opt/cni/bin';

const RUNTIME_OF_DAEMON: Readonly<Record<string, RuntimeName>> = {
  containerd: 'containerd',
  crio: 'cri-o',
  'cri-dockerd': 'docker',
};

function containerdSettings(daemon: DaemonProcess): RuntimeSettings {
  const config = configOf(daemon, ['--config', '-c']);
  const toml = TomlDocument.parse(config?.text ?? '');
  const version = toml.number(['version']) ?? 1;
  // Where the CRI plugin's cni table lives changed with the config version (1: plugins.cri, 2: the grpc plugin,
  // 3 (containerd 2.x): the runtime plugin, with bin_dirs from 2.1).
  const cniTable =
    version >= 3
      ? ['plugins', 'io.containerd.cri.v1.runtime', 'cni']
      : version === 2
        ? ['plugins', 'io.containerd.grpc.v1.cri', 'cni']
        : ['plugins', 'cri', 'cni'];
  const confDir = toml.string([...cniTable, 'conf_dir']);
  const binDirs = toml.strings([...cniTable, 'bin_dirs']) ?? toml.strings([...cniTable, 'bin_dir']);
  const address = flagValue(daemon.argv, ['--address', '-a']) ?? toml.string(['grpc', 'address']);
  return {
    name: 'containerd',
    pid: daemon.pid,
    configPath: config?.path,
    socket: socketPath(address ?? '/run/containerd/containerd.sock'),
    state: flagValue(daemon.argv, ['--state']) ?? toml.string(['state']) ?? '/run/containerd',
    cniConfDir: confDir ?? DEFAULT_CNI_CONF_DIR,
    cniBinDirs: binDirs ?? [DEFAULT_CNI_BIN_DIR],
    cniDirsFrom: confDir || binDirs ? `${config?.path ?? 'containerd config'}` : 'containerd defaults',
  };
}

function crioSettings(daemon: DaemonProcess): RuntimeSettings {
  // crio.conf first, then the drop-ins in name order; later values win.
  const docs = [...daemon.files.entries()]
    .sort(([a], [b]) => (a.includes('crio.conf.d') ? 1 : 0) - (b.includes('crio.conf.d') ? 1 : 0) || a.localeCompare(b))
    .map(([, text]) => TomlDocument.parse(text));
  const last = <T>(read: (doc: TomlDocument) => T | undefined): T | undefined =>
    docs.reduce<T | undefined>((found, doc) => read(doc) ?? found, undefined);
  const confDir =
    flagValue(daemon.argv, ['--cni-config-dir']) ?? last((d) => d.string(['crio', 'network', 'network_dir']));
  const binDirs = last((d) => d.strings(['crio', 'network', 'plugin_dirs']));
  const binFlag = flagValue(daemon.argv, ['--cni-plugin-dir']);
  return {
    name: 'cri-o',
    pid: daemon.pid,
    configPath: [...daemon.files.keys()][0],
    socket: socketPath(
      flagValue(daemon.argv, ['--listen']) ?? last((d) => d.string(['crio', 'api', 'listen'])) ?? '/run/crio/crio.sock',
    ),
    cniConfDir: (confDir ?? DEFAULT_CNI_CONF_DIR).replace(/\/$/, ''),
    cniBinDirs: (binFlag ? [binFlag] : (binDirs ?? [DEFAULT_CNI_BIN_DIR])).map((dir) => dir.replace(/\/$/, '')),
    cniDirsFrom: confDir || binDirs || binFlag ? 'cri-o config' : 'cri-o defaults',
  };
}

function criDockerdSettings(daemon: DaemonProcess): RuntimeSettings {
  const confDir = flagValue(daemon.argv, ['--cni-conf-dir']);
  const binDir = flagValue(daemon.argv, ['--cni-bin-dir']);
  return {
    name: 'docker',
    pid: daemon.pid,
    socket: socketPath(flagValue(daemon.argv, ['--container-runtime-endpoint']) ?? '/run/cri-dockerd.sock'),
    cniConfDir: confDir ?? DEFAULT_CNI_CONF_DIR,
    cniBinDirs: binDir ? binDir.split(',') : [DEFAULT_CNI_BIN_DIR],
    cniDirsFrom: confDir || binDir ? 'cri-dockerd flags' : 'cri-dockerd defaults',
  };
}

/**
 * The runtime kubelet talks to: the CRI daemon whose socket is kubelet's endpoint, else the only CRI daemon found.
 * Without one (not readable, or a runtime this does not know), the name comes from the endpoint and the CNI
 * directories are the defaults.
 */
export function runtimeSettings(daemons: readonly DaemonProcess[], endpoint: string | undefined): RuntimeSettings {
  const candidates = daemons
    .filter((daemon) => RUNTIME_OF_DAEMON[daemon.comm] !== undefined)
    .map((daemon) =>
      daemon.comm === 'containerd'
        ? containerdSettings(daemon)
        : daemon.comm === 'crio'
          ? crioSettings(daemon)
          : criDockerdSettings(daemon),
    );
  const wanted = endpoint ? socketPath(endpoint) : undefined;
  const chosen =
    candidates.find((runtime) => runtime.socket === wanted) ?? (candidates.length === 1 ? candidates[0] : undefined);
  if (chosen) return chosen;
  const name: RuntimeName = !wanted
    ? 'unknown'
    : /containerd/.test(wanted)
      ? 'containerd'
      : /crio/.test(wanted)
        ? 'cri-o'
        : /dockerd|docker/.test(wanted)
          ? 'docker'
          : 'unknown';
  return {
    name,
    socket: wanted,
    cniConfDir: DEFAULT_CNI_CONF_DIR,
    cniBinDirs: [DEFAULT_CNI_BIN_DIR],
    cniDirsFrom: 'defaults (the runtime process was not found in the node’s network namespace)',
  };
}

// ---------------------------------------------------------------------------------------------------------------
// kube-proxy

export interface KubeProxySettings {
  readonly pid: number;
  readonly configPath?: string;
  /** The mode it was configured with ('' in the config means the platform default, iptables on Linux). */
  readonly configuredMode: string;
  readonly metricsAddress: string;
  readonly healthzAddress: string;
}

/** A bind address made into one to connect to: 0.0.0.0, :: or an empty host means this node's loopback. */
export function connectAddress(bind: string | undefined, fallback: string): string {
  if (!bind) return fallback;
  const match = /^(.*):(\d+)$/.exec(bind);
  if (!match) return fallback;
  const host = (match[1] ?? '').replace(/^\[|\]$/g, '');
  const local = host === '' || host === '0.0.0.0' || host === '::';
  return `${local ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host}:${match[2]}`;
}

export function kubeProxySettings(daemon: DaemonProcess): KubeProxySettings {
  const config = configOf(daemon, ['--config']);
  const yaml = config ? yamlObject(config.text) : {};
  return {
    pid: daemon.pid,
    configPath: config?.path,
    configuredMode: flagValue(daemon.argv, ['--proxy-mode']) ?? str(yaml['mode']) ?? 'iptables',
    metricsAddress: connectAddress(
      flagValue(daemon.argv, ['--metrics-bind-address']) ?? str(yaml['metricsBindAddress']),
      '127.0.0.1:10249',
    ),
    healthzAddress: connectAddress(
      flagValue(daemon.argv, ['--healthz-bind-address']) ?? str(yaml['healthzBindAddress']),
      '127.0.0.1:10256',
    ),
  };
}

export interface KubeProxyHealth {
  /** kube-proxy's last successful sync of its rules, from /healthz. */
  readonly lastUpdated?: string;
  readonly currentTime?: string;
  /** How long ago the last sync was, by kube-proxy's own clock. */
  readonly secondsSinceSync?: number;
  readonly nodeEligible?: boolean;
  /** kube-proxy's own verdict (1.30+); older ones answer 503 instead. */
  readonly healthy?: boolean;
}

/**
 * A time from kube-proxy's /healthz → ISO 8601: RFC 3339 with nanoseconds (1.34: `2026-12-02T12:49:29.631867104Z`)
 * or Go's time.Time.String() of older releases (`2026-12-02 12:30:00.123456789 +0000 UTC m=+1.2`).
 */
export function goTimeToIso(text: string): string | undefined {
  const trimmed = text.trim();
  const go = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)? ([+-]\d{2})(\d{2})/.exec(trimmed);
  const iso = go
    ? `${go[1]}T${go[2]}${(go[3] ?? '.0').slice(0, 4).padEnd(4, '0')}${go[4]}:${go[5]}`
    : trimmed.replace(/(\.\d{3})\d+/, '$1');
  const date = new Date(iso);
  return /^\d{4}-/.test(trimmed) && !Number.isNaN(date.getTime()) ? date.toISOString() : undefined;
}

export function parseKubeProxyHealth(text: string): KubeProxyHealth | undefined {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const lastUpdated = typeof body['lastUpdated'] === 'string' ? goTimeToIso(body['lastUpdated']) : undefined;
  const currentTime = typeof body['currentTime'] === 'string' ? goTimeToIso(body['currentTime']) : undefined;
  const secondsSinceSync =
    lastUpdated && currentTime ? (Date.parse(currentTime) - Date.parse(lastUpdated)) / 1000 : undefined;
  return {
    lastUpdated,
    currentTime,
    secondsSinceSync,
    nodeEligible: typeof body['nodeEligible'] === 'boolean' ? body['nodeEligible'] : undefined,
    healthy: typeof body['healthy'] === 'boolean' ? body['healthy'] : undefined,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// ip -j -d addr / route

export interface NodeInterface {
  readonly name: string;
  readonly index: number;
  /** `ip -d`'s linkinfo kind (veth, bridge, vxlan, geneve, ipip, wireguard…), or `device` for a plain NIC. */
  readonly kind: string;
  readonly mtu: number;
  /** operstate: UP, DOWN, UNKNOWN (loopback and some virtual devices), LOWERLAYERDOWN. */
  readonly state: string;
  /** Administratively up (the UP flag). */
  readonly up: boolean;
  readonly master?: string;
  /** Addresses as CIDR (`172.30.77.11/24`). */
  readonly addresses: readonly string[];
}

interface IpAddrJson {
  ifindex?: number;
  ifname?: string;
  flags?: string[];
  mtu?: number;
  operstate?: string;
  master?: string;
  link_type?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: { local?: string; prefixlen?: number }[];
}

function jsonArray<T>(text: string | undefined): T[] {
  if (!text) return [];
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? (value as T[]) : [];
  } catch {
    return [];
  }
}

export function parseIpAddr(text: string | undefined): NodeInterface[] {
  return jsonArray<IpAddrJson>(text)
    .filter((entry) => entry.ifname !== undefined)
    .map((entry) => ({
      name: entry.ifname ?? '',
      index: entry.ifindex ?? 0,
      kind: entry.linkinfo?.info_kind ?? (entry.link_type === 'loopback' ? 'loopback' : 'device'),
      mtu: entry.mtu ?? 0,
      state: entry.operstate ?? 'UNKNOWN',
      up: (entry.flags ?? []).includes('UP'),
      master: entry.master,
      addresses: (entry.addr_info ?? [])
        .filter((addr) => addr.local !== undefined)
        .map((addr) => `${addr.local}/${addr.prefixlen ?? 32}`),
    }));
}

export interface Route {
  readonly dst: string;
  readonly gateway?: string;
  readonly dev?: string;
  readonly protocol?: string;
  readonly type: string;
  readonly table: string;
  readonly onlink: boolean;
}

interface IpRouteJson {
  dst?: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  type?: string;
  table?: string;
  flags?: string[];
}

export function parseIpRoute(text: string | undefined): Route[] {
  return jsonArray<IpRouteJson>(text)
    .filter((entry) => entry.dst !== undefined)
    .map((entry) => ({
      dst: entry.dst ?? '',
      gateway: entry.gateway,
      dev: entry.dev,
      protocol: entry.protocol,
      type: entry.type ?? 'unicast',
      table: entry.table ?? 'main',
      onlink: (entry.flags ?? []).includes('onlink'),
    }));
}

// ---------------------------------------------------------------------------------------------------------------
// sysctls and conntrack

/** `grep -H . /proc/sys/…` lines → `net.ipv4.ip_forward` → `1` (tabs in values become spaces). */
export function parseSysctls(text: string | undefined): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of (text ?? '').split('\n')) {
    const match = /^\/proc\/sys\/([^:]+):(.*)$/.exec(line);
    if (!match) continue;
    const path = (match[1] ?? '').split('/');
    // An interface name may hold a dot (eth0.100); sysctl's own naming swaps it for a slash, keep it as is.
    values[path.join('.')] = (match[2] ?? '').replace(/\s+/g, ' ').trim();
  }
  return values;
}

/** `conntrack -S` (one line per CPU, `name=value` fields) → totals per field. */
export function parseConntrackStats(text: string | undefined): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    for (const match of line.matchAll(/([a-z_]+)=(\d+)/g)) {
      const name = match[1] ?? '';
      if (name === 'cpu') continue;
      totals[name] = (totals[name] ?? 0) + Number(match[2]);
    }
  }
  return totals;
}

// ---------------------------------------------------------------------------------------------------------------
// kube-proxy's rules

const COMMENT = /--comment (?:"((?:[^"\\]|\\.)*)"|(\S+))/;

/**
 * The Service ports kube-proxy (iptables mode) programmed in one backend: `ns/name:port` from the comments of the nat
 * KUBE-SERVICES rules ("… cluster IP") and of the filter KUBE-SERVICES rules ("… has no endpoints", which reject,
 * and "… has no local endpoints", which drop).
 */
export function iptablesServicePorts(rules: readonly FirewallRule[], backend: FirewallBackend): Set<string> {
  const ports = new Set<string>();
  for (const rule of kubeServicesRules(rules, backend)) {
    const comment = COMMENT.exec(rule.rule);
    const text = comment?.[1] ?? comment?.[2];
    const match = text ? /^(\S+\/\S+) (cluster IP|has no endpoints|has no local endpoints)$/.exec(text) : null;
    if (match) ports.add(match[1] ?? '');
  }
  return ports;
}

/** The IPv4 KUBE-SERVICES rules (nat and filter) of one backend. */
export const kubeServicesRules = (rules: readonly FirewallRule[], backend: FirewallBackend): FirewallRule[] =>
  rules.filter(
    (rule) =>
      rule.backend === backend &&
      rule.family === 'ipv4' &&
      rule.chain === 'KUBE-SERVICES' &&
      (rule.table === 'nat' || rule.table === 'filter') &&
      !rule.rule.startsWith('policy '),
  );

/**
 * The Service ports kube-proxy (nftables mode) programmed, from `nft list map ip kube-proxy service-ips`
 * (`… : goto service-HASH-ns/name/proto/port`) and the `no-endpoint-services` map's comments.
 */
export function nftServicePorts(text: string | undefined): Set<string> {
  const ports = new Set<string>();
  for (const match of (text ?? '').matchAll(/goto service-[A-Z0-9]+-([^/\s,]+)\/([^/\s,]+)\/[a-z]+\/([^\s,}]*)/g)) {
    ports.add(`${match[1]}/${match[2]}${match[3] ? `:${match[3]}` : ''}`);
  }
  for (const match of (text ?? '').matchAll(/comment "([^"/]+\/[^"]+)"/g)) ports.add(match[1] ?? '');
  return ports;
}

// ---------------------------------------------------------------------------------------------------------------
// CNI

export type CniFileKind = 'conflist' | 'conf' | 'json' | 'other';

export interface CniPluginRef {
  readonly type: string;
  readonly ipam?: string;
}

export interface CniConfigFile {
  readonly name: string;
  readonly kind: CniFileKind;
  /** Parsed as a network config the runtime could load. */
  readonly valid: boolean;
  readonly error?: string;
  readonly networkName?: string;
  readonly cniVersion?: string;
  readonly plugins: readonly CniPluginRef[];
  /** The `mtu` a plugin of the chain sets for pods, when one does. */
  readonly mtu?: number;
  /** The file with values of credential-like keys replaced (what evidence and the bundle show). */
  readonly redacted: string;
}

const CREDENTIAL_KEY =
  /pass(word|wd|phrase)?$|secret|token|credential|api[-_]?key|private[-_]?key|^auth$|^key$|bearer/i;
/** `tlsPrivateKeyFile`, `tokenPath`: where a secret is, not the secret. */
const PATH_KEY = /(file|path|dir)$/i;
const isCredentialKey = (key: string): boolean => CREDENTIAL_KEY.test(key) && !PATH_KEY.test(key);

/** Replaces the values of keys that look like credentials, at any depth. */
export function redactCredentials(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactCredentials);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, inner]) => [
        key,
        isCredentialKey(key) && (typeof inner === 'string' || typeof inner === 'number')
          ? 'REDACTED'
          : redactCredentials(inner),
      ]),
    );
  }
  return value;
}

/**
 * Text that is not JSON (a TOML or YAML config, a broken CNI file): `"key": "value"`, `key: value` and `key = value`
 * lines with a credential-like key lose their value.
 */
export function redactConfigText(text: string): string {
  return (
    text
      // "key": value anywhere (JSON, even broken), then key = value / key: value lines (TOML, YAML).
      .replace(
        /"([A-Za-z0-9_.-]+)"(\s*[:=]\s*)("(?:[^"\\]|\\.)*"|[^,}\s]+)/g,
        (pair, key: string, separator: string) => (isCredentialKey(key) ? `"${key}"${separator}"REDACTED"` : pair),
      )
      .replace(/^(\s*([A-Za-z0-9_.-]+)\s*[:=]\s*)(\S.*?)\s*$/gm, (line, head: string, key: string, value: string) =>
        isCredentialKey(key) && value !== '"REDACTED"' ? `${head}"REDACTED"` : line,
      )
  );
}

function cniKind(name: string): CniFileKind {
  if (name.endsWith('.conflist')) return 'conflist';
  if (name.endsWith('.conf')) return 'conf';
  if (name.endsWith('.json')) return 'json';
  return 'other';
}

function pluginRef(plugin: Record<string, unknown>): CniPluginRef | undefined {
  const type = str(plugin['type']);
  if (!type) return undefined;
  const ipam =
    plugin['ipam'] && typeof plugin['ipam'] === 'object'
      ? str((plugin['ipam'] as Record<string, unknown>)['type'])
      : undefined;
  return ipam ? { type, ipam } : { type };
}

/** One file of the CNI config directory, judged as libcni loads it (conflist: a list of plugins; conf/json: one). */
export function parseCniFile(name: string, content: string): CniConfigFile {
  const kind = cniKind(name);
  let json: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(content);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    json = parsed as Record<string, unknown>;
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return { name, kind, valid: false, error, plugins: [], redacted: redactConfigText(content) };
  }
  const redacted = JSON.stringify(redactCredentials(json), null, 2);
  const rawPlugins = kind === 'conflist' ? json['plugins'] : [json];
  const plugins = (Array.isArray(rawPlugins) ? rawPlugins : [])
    .filter((plugin): plugin is Record<string, unknown> => Boolean(plugin) && typeof plugin === 'object')
    .map(pluginRef)
    .filter((plugin): plugin is CniPluginRef => plugin !== undefined);
  const mtus = (Array.isArray(rawPlugins) ? rawPlugins : [])
    .map((plugin) => (plugin && typeof plugin === 'object' ? (plugin as Record<string, unknown>)['mtu'] : undefined))
    .filter((mtu): mtu is number => typeof mtu === 'number');
  const error =
    kind === 'other'
      ? 'not a .conf, .conflist or .json file: the runtime ignores it'
      : plugins.length === 0
        ? kind === 'conflist'
          ? 'no plugins with a type'
          : 'no "type" (a conflist saved as .conf?)'
        : undefined;
  return {
    name,
    kind,
    valid: error === undefined,
    error,
    networkName: str(json['name']),
    cniVersion: str(json['cniVersion']),
    plugins,
    mtu: mtus[0],
    redacted,
  };
}

export function parseCniFiles(sections: Sections): CniConfigFile[] {
  return sectionsNamed(sections, 'cni-file')
    .filter(({ section }) => section.status === 0)
    .map(({ key, section }) => parseCniFile(key, section.output))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Binary names in each CNI bin directory that exists. */
export function parseCniBinaries(sections: Sections): Map<string, string[]> {
  const dirs = new Map<string, string[]>();
  for (const { key, section } of sectionsNamed(sections, 'cni-bin')) {
    if (section.status === 0)
      dirs.set(
        key,
        section.output.split('\n').filter((name) => name !== ''),
      );
  }
  return dirs;
}

// ---------------------------------------------------------------------------------------------------------------
// containers

export interface Container {
  readonly id: string;
  readonly name: string;
  readonly pod: string;
  readonly namespace: string;
  readonly image?: string;
  readonly state: string;
}

export interface ContainerList {
  /** crictl on the node, or the runtime's own state (containerd's task bundles) without it. */
  readonly source: 'crictl' | 'containerd state';
  readonly containers: readonly Container[];
  /** Pod sandboxes running (from the runtime's state; crictl ps lists containers only). */
  readonly sandboxes?: number;
}

interface CrictlPs {
  containers?: {
    id?: string;
    metadata?: { name?: string };
    image?: { image?: string };
    state?: string;
    labels?: Record<string, string>;
  }[];
}

export function parseContainers(sections: Sections): ContainerList | undefined {
  const crictl = okOutput(sections, 'crictl-ps');
  if (crictl !== undefined) {
    let parsed: CrictlPs = {};
    try {
      parsed = JSON.parse(crictl) as CrictlPs;
    } catch {
      return undefined;
    }
    return {
      source: 'crictl',
      containers: (parsed.containers ?? []).map((c) => ({
        id: c.id ?? '',
        name: c.metadata?.name ?? '',
        pod: c.labels?.['io.kubernetes.pod.name'] ?? '',
        namespace: c.labels?.['io.kubernetes.pod.namespace'] ?? '',
        image: c.image?.image,
        state: (c.state ?? '').replace(/^CONTAINER_/, '').toLowerCase(),
      })),
    };
  }
  const tasks = sections.get('containerd-tasks');
  if (!tasks || tasks.status !== 0) return undefined;
  const containers: Container[] = [];
  let sandboxes = 0;
  for (const line of tasks.output.split('\n')) {
    if (line.trim() === '') continue;
    let task: { id?: string; annotations?: Record<string, string> };
    try {
      task = JSON.parse(line) as typeof task;
    } catch {
      continue;
    }
    const annotations = task.annotations ?? {};
    if (annotations['io.kubernetes.cri.container-type'] === 'sandbox') {
      sandboxes++;
      continue;
    }
    containers.push({
      id: task.id ?? '',
      name: annotations['io.kubernetes.cri.container-name'] ?? '',
      pod: annotations['io.kubernetes.cri.sandbox-name'] ?? '',
      namespace: annotations['io.kubernetes.cri.sandbox-namespace'] ?? '',
      image: annotations['io.kubernetes.cri.image-name'],
      state: 'running',
    });
  }
  return { source: 'containerd state', containers, sandboxes };
}

/** `crictl version` → the runtime's name and version. */
export function parseCrictlVersion(text: string | undefined): { name?: string; version?: string } {
  const name = /RuntimeName:\s*(\S+)/.exec(text ?? '')?.[1];
  const version = /RuntimeVersion:\s*(\S+)/.exec(text ?? '')?.[1];
  return { name, version };
}
