import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCounters } from '../../../src/node/counters.js';
import { discover, inspectPlan } from '../../../src/node/facts.js';
import {
  connectAddress,
  flagValue,
  goTimeToIso,
  iptablesServicePorts,
  nftServicePorts,
  parseCniFile,
  parseConntrackStats,
  parseContainers,
  parseDaemons,
  parseIpAddr,
  parseIpRoute,
  parseKubeProxyHealth,
  parseSysctls,
  redactConfigText,
  runtimeSettings,
  socketPath,
} from '../../../src/node/parse.js';
import { okOutput } from '../../../src/node/sections.js';
import { fixture, sections } from './fixtures.js';

const discovered = sections('discover-worker1.txt');
const inspected = sections('inspect-worker1.txt');

describe('discover on the lab', () => {
  it('finds the node’s own containerd, kubelet and kube-proxy and their configs', () => {
    const daemons = parseDaemons(discovered);
    assert.deepEqual(
      daemons.map((d) => d.comm),
      ['containerd', 'kubelet', 'kube-proxy'],
    );
    assert.deepEqual(daemons[0]?.argv, [
      'containerd',
      '--config',
      '/var/lib/netdiag-lab/nodes/worker1/containerd.toml',
    ]);
    assert.deepEqual([...(daemons[1]?.files.keys() ?? [])], ['/var/lib/netdiag-lab/nodes/worker1/kubelet.yaml']);
  });
  it('reads where the runtime keeps its socket, state and CNI directories, and how kube-proxy is reached', () => {
    const settings = discover(discovered);
    assert.equal(settings.kubelet?.runtimeEndpoint, 'unix:///run/netdiag-lab/worker1/containerd.sock');
    assert.equal(settings.kubelet?.runtimeEndpointFrom, 'config');
    assert.deepEqual(
      { ...settings.runtime, pid: undefined },
      {
        name: 'containerd',
        pid: undefined,
        configPath: '/var/lib/netdiag-lab/nodes/worker1/containerd.toml',
        socket: '/run/netdiag-lab/worker1/containerd.sock',
        state: '/run/netdiag-lab/worker1/containerd',
        cniConfDir: '/var/lib/netdiag-lab/nodes/worker1/cni-conf',
        cniBinDirs: ['/usr/lib/cni'],
        cniDirsFrom: '/var/lib/netdiag-lab/nodes/worker1/containerd.toml',
      },
    );
    assert.equal(settings.kubeProxy?.configuredMode, 'iptables');
    assert.equal(settings.kubeProxy?.healthzAddress, '127.0.0.1:10256');
    const plan = inspectPlan(settings, { full: false, inspectContainers: ['d8d9a8de4068', 'not-an-id; rm -rf /'] });
    assert.equal(plan.root, `/proc/${settings.runtime.pid}/root`);
    assert.deepEqual(plan.inspectContainers, ['d8d9a8de4068'], 'only hex container ids reach the node');
  });
  it('without the runtime process, falls back to kubelet’s endpoint and the default CNI directories', () => {
    const kubeletOnly = parseDaemons(discovered).filter((d) => d.comm === 'kubelet');
    const runtime = runtimeSettings(kubeletOnly, 'unix:///var/run/crio/crio.sock');
    assert.equal(runtime.name, 'cri-o');
    assert.equal(runtime.socket, '/run/crio/crio.sock');
    assert.equal(runtime.cniConfDir, '/etc/cni/net.d');
    assert.deepEqual(runtime.cniBinDirs, ['/opt/cni/bin']);
  });
});

describe('flag and address helpers', () => {
  it('flagValue reads --x=v and --x v, the last one winning', () => {
    assert.equal(flagValue(['bin', '--config=/a', '--config', '/b'], ['--config']), '/b');
    assert.equal(flagValue(['bin', '-c', '/c'], ['--config', '-c']), '/c');
    assert.equal(flagValue(['bin', '--config'], ['--config']), undefined);
  });
  it('connectAddress turns a bind address into one to connect to', () => {
    assert.equal(connectAddress('0.0.0.0:10256', 'x'), '127.0.0.1:10256');
    assert.equal(connectAddress('[::]:10249', 'x'), '127.0.0.1:10249');
    assert.equal(connectAddress(':10249', 'x'), '127.0.0.1:10249');
    assert.equal(connectAddress('10.0.0.5:10249', 'x'), '10.0.0.5:10249');
    assert.equal(connectAddress(undefined, '127.0.0.1:1'), '127.0.0.1:1');
  });
  it('socketPath', () =>
    assert.equal(socketPath('unix:///var/run/containerd/containerd.sock'), '/run/containerd/containerd.sock'));
});

describe('inspect on the lab', () => {
  it('ip -j -d addr: every interface with its kind, MTU, state and addresses', () => {
    const interfaces = parseIpAddr(okOutput(inspected, 'ip-addr'));
    const eth0 = interfaces.find((i) => i.name === 'eth0');
    assert.deepEqual(eth0 && { ...eth0, index: 0 }, {
      name: 'eth0',
      index: 0,
      kind: 'veth',
      mtu: 1500,
      state: 'UP',
      up: true,
      master: undefined,
      addresses: ['172.30.77.11/24', ...(eth0?.addresses.slice(1) ?? [])],
    });
    const cni0 = interfaces.find((i) => i.name === 'cni0');
    assert.equal(cni0?.kind, 'bridge');
    assert.ok(cni0?.addresses.includes('10.233.64.1/24'));
    assert.equal(interfaces.find((i) => i.name === 'lo')?.kind, 'loopback');
    assert.ok(interfaces.filter((i) => i.master === 'cni0').length >= 2, 'pod veths on the bridge');
  });
  it('ip -j -d route: the other nodes’ pod CIDRs via their addresses', () => {
    const routes = parseIpRoute(okOutput(inspected, 'ip-route')).filter((r) => r.table === 'main');
    assert.deepEqual(
      routes.filter((r) => r.dst.startsWith('10.233.')).map((r) => [r.dst, r.gateway, r.dev]),
      [
        ['10.233.64.0/24', undefined, 'cni0'],
        ['10.233.65.0/24', '172.30.77.12', 'eth0'],
        ['10.233.66.0/24', '172.30.77.13', 'eth0'],
      ],
    );
    assert.equal(routes.find((r) => r.dst === 'default')?.gateway, '172.30.77.1');
  });
  it('sysctls and conntrack', () => {
    const sysctls = parseSysctls(inspected.get('sysctl')?.output);
    assert.equal(sysctls['net.ipv4.ip_forward'], '1');
    assert.equal(sysctls['net.bridge.bridge-nf-call-iptables'], '1');
    assert.equal(sysctls['net.ipv4.ip_local_port_range'], '32768 60999');
    assert.equal(sysctls['net.ipv4.conf.eth0.rp_filter'], '0');
    assert.equal(sysctls['net.netfilter.nf_conntrack_max'], '262144');
    const stats = parseConntrackStats(okOutput(inspected, 'conntrack-stats'));
    assert.equal(stats['insert_failed'], 0);
    assert.equal(stats['cpu'], undefined, 'the CPU number is not a counter');
    assert.deepEqual(parseConntrackStats('cpu=0 drop=2 insert_failed=1\ncpu=1 drop=3 insert_failed=0'), {
      drop: 5,
      insert_failed: 1,
    });
  });
  it('kube-proxy: the Service ports of KUBE-SERVICES (nat and filter) in the backend that holds them', () => {
    const rules = parseCounters(inspected.get('counters')?.output ?? '').rules;
    assert.deepEqual([...iptablesServicePorts(rules, 'iptables-nft')].sort(), [
      'default/kubernetes:https',
      'kube-system/kube-dns:dns',
      'kube-system/kube-dns:dns-tcp',
      'kube-system/kube-dns:metrics',
    ]);
    assert.equal(iptablesServicePorts(rules, 'iptables-legacy').size, 0);
    assert.equal(okOutput(inspected, 'kube-proxy-mode')?.trim(), 'iptables');
    const health = parseKubeProxyHealth(okOutput(inspected, 'kube-proxy-healthz') ?? '');
    assert.equal(health?.healthy, true);
    assert.match(health?.lastUpdated ?? '', /^2026-12-02T12:49:29\.631Z$/);
    assert.ok((health?.secondsSinceSync ?? 1) <= 0.001);
  });
  it('goTimeToIso reads both forms kube-proxy has printed', () => {
    assert.equal(goTimeToIso('2026-12-02 12:30:00.123456789 +0000 UTC m=+1.2'), '2026-12-02T12:30:00.123Z');
    assert.equal(goTimeToIso('2026-12-02 14:30:00 +0200 CEST'), '2026-12-02T12:30:00.000Z');
    assert.equal(goTimeToIso('2026-12-02T12:49:29.631867104Z'), '2026-12-02T12:49:29.631Z');
    assert.equal(goTimeToIso('yesterday'), undefined);
  });
  it('nftables mode: Service ports from the maps', () => {
    const map = [
      'table ip kube-proxy {',
      '\tmap service-ips {',
      '\t\telements = { 10.96.0.10 . tcp . 53 : goto service-NWBZK7IH-kube-system/kube-dns/tcp/dns-tcp,',
      '\t\t\t     10.96.0.1 . tcp . 443 : goto service-2QRHZV4L-default/kubernetes/tcp/https }',
      '\tmap no-endpoint-services {',
      '\t\telements = { 10.96.0.20 . tcp . 80 comment "shop/web:http" : goto reject-chain }',
    ].join('\n');
    assert.deepEqual([...nftServicePorts(map)].sort(), [
      'default/kubernetes:https',
      'kube-system/kube-dns:dns-tcp',
      'shop/web:http',
    ]);
  });
  it('the CNI config and the plugin chain', () => {
    const file = parseCniFile('10-netdiag-lab.conflist', okOutput(inspected, 'cni-file 10-netdiag-lab.conflist') ?? '');
    assert.equal(file.valid, true);
    assert.equal(file.networkName, 'netdiag-lab');
    assert.deepEqual(file.plugins, [{ type: 'bridge', ipam: 'host-local' }, { type: 'portmap' }]);
    assert.equal(file.mtu, undefined);
    assert.ok(okOutput(inspected, 'cni-bin /usr/lib/cni')?.split('\n').includes('bridge'));
  });
  it('containers from containerd’s state (no crictl on the lab’s nodes)', () => {
    const list = parseContainers(inspected);
    assert.equal(list?.source, 'containerd state');
    const cache = list?.containers.find((c) => c.name === 'node-cache');
    assert.equal(cache?.namespace, 'kube-system');
    assert.match(cache?.pod ?? '', /^nodelocaldns-/);
    assert.ok((list?.sandboxes ?? 0) >= 3);
    const inspect = JSON.parse(okOutput(inspected, `inspect ${cache?.id}`) ?? '{}') as {
      pid: number;
      namespaces: { type: string }[];
    };
    assert.ok(inspect.pid > 0 && inspect.namespaces.some((ns) => ns.type === 'network'));
  });
});

describe('CNI files as libcni judges them, credentials redacted', () => {
  const cases: { name: string; content: string; valid: boolean; plugins?: string[]; error?: RegExp }[] = [
    {
      name: '10-a.conf',
      content: '{"cniVersion":"0.3.1","name":"a","type":"bridge","ipam":{"type":"host-local"}}',
      valid: true,
      plugins: ['bridge'],
    },
    {
      name: '10-a.conf',
      content: '{"cniVersion":"1.0.0","name":"a","plugins":[{"type":"bridge"}]}',
      valid: false,
      error: /no "type"/,
    },
    { name: '10-a.conflist', content: '{"name":"a","plugins":[]}', valid: false, error: /no plugins/ },
    { name: '10-a.conflist', content: '{"name": "a", "plugins": [', valid: false, error: /JSON/ },
    { name: '10-a.conflist.bak', content: '{"name":"a","plugins":[{"type":"x"}]}', valid: false, error: /ignores it/ },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.valid ? 'valid' : c.error}`, () => {
      const file = parseCniFile(c.name, c.content);
      assert.equal(file.valid, c.valid, file.error);
      if (c.plugins)
        assert.deepEqual(
          file.plugins.map((p) => p.type),
          c.plugins,
        );
      if (c.error) assert.match(file.error ?? '', c.error);
    });
  }
  it('keys that look like credentials lose their values, paths to them do not', () => {
    const file = parseCniFile(
      '10-calico.conflist',
      JSON.stringify({
        name: 'k8s-pod-network',
        plugins: [
          { type: 'calico', etcd_key_file: '/etc/calico/key.pem', kubernetes: { token: 'eyJhbGciOi' }, mtu: 1440 },
          { type: 'x', auth: { username: 'u', password: 'p' }, apiKey: 'k' },
        ],
      }),
    );
    assert.equal(file.mtu, 1440);
    assert.doesNotMatch(file.redacted, /eyJhbGciOi|"p"|"k"/);
    assert.match(file.redacted, /"token": "REDACTED"/);
    assert.match(file.redacted, /"etcd_key_file": "\/etc\/calico\/key.pem"/);
    assert.equal(
      redactConfigText(
        '[registry.auth]\n  password = "hunter2"\n  username = "me"\ntlsPrivateKeyFile: /k.key\ntoken: abc',
      ),
      '[registry.auth]\n  password = "REDACTED"\n  username = "me"\ntlsPrivateKeyFile: /k.key\ntoken: "REDACTED"',
    );
    assert.doesNotMatch(parseCniFile('x.conflist', '{"password": "s3cret", broken').redacted, /s3cret/);
  });
});

describe('full collection (for --bundle)', () => {
  it('adds neighbours and every net sysctl', () => {
    const full = sections('inspect-worker2-full.txt');
    assert.ok(JSON.parse(okOutput(full, 'ip-neigh') ?? 'null') instanceof Array);
    assert.match(okOutput(full, 'sysctl-all') ?? '', /^net\.ipv4\.ip_forward = 1$/m);
    assert.ok(fixture('inspect-worker1.txt').length > 0);
  });
});
