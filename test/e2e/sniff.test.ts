/**
 * `kubectl netdiag sniff` end to end on the cluster in KUBECONFIG (the lab): ephemeral mode on a pod, stdout and
 * live tshark, a 3-pod deployment merged into one pcapng, and the bad-input paths (exit 2, nothing left behind).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  capinfos,
  cli,
  createNamespace,
  deployment,
  dnsLoopPod,
  dnsQueries,
  env,
  ephemeralCount,
  haveCluster,
  kubectlOk,
  netdiag,
  tcpdumpsInPod,
  tshark,
  waitFor,
  waitPodsReady,
  tearDown,
} from './sniff.support.js';

const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-sniff-e2e-'));
let ns = '';

describe('sniff (ephemeral mode, outputs, workloads)', { timeout: 900_000 }, () => {
  before(() => {
    assert.ok(haveCluster(), `no cluster reachable with KUBECONFIG=${env.KUBECONFIG}`);
    ns = createNamespace('netdiag-e2e');
    kubectlOk(
      ['apply', '-f', '-'],
      dnsLoopPod(ns, 'dnsloop', { nodeName: 'worker3.kube.local' }) + '---\n' + deployment(ns, 'web', 3),
    );
    waitPodsReady(ns, 'app=dnsloop', 1);
    waitPodsReady(ns, 'app=web', 3);
  });

  after(() => tearDown(dir, [ns]));

  it('captures the DNS loop of a pod on worker3 into a classic pcap tshark and capinfos read', async () => {
    const file = path.join(dir, 'out.pcap');
    const run = await netdiag(['sniff', 'dnsloop', '-n', ns, '-f', 'port 53', '-o', file, '--duration', '10s']).done;
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /^ephemeral mode: /m);
    assert.match(run.stderr, /captured \d+ packets/);
    const bytes = readFileSync(file);
    assert.equal(bytes.readUInt32LE(0), 0xa1b2c3d4, 'classic pcap as tcpdump writes it');
    assert.ok([113, 276].includes(bytes.readUInt32LE(20)), `link type SLL or SLL2, got ${bytes.readUInt32LE(20)}`);
    const info = capinfos(file);
    assert.equal(info.status, 0, info.stderr);
    const queries = dnsQueries(file);
    assert.ok(
      queries.includes(`kubernetes.default.${ns}.svc.cluster.local`),
      `search-domain expansion in ${queries.slice(0, 10).join(', ')}`,
    );
    assert.ok(queries.includes('kubernetes.default.svc.cluster.local'));
    assert.deepEqual(tcpdumpsInPod(ns, 'dnsloop'), [], 'no tcpdump left running');
  });

  it('reuses the idle ephemeral container instead of adding one per run', async () => {
    const before = ephemeralCount(ns, 'dnsloop');
    const run = await netdiag([
      'sniff',
      'dnsloop',
      '-n',
      ns,
      '-f',
      'port 53',
      '-o',
      path.join(dir, 'again.pcap'),
      '--count',
      '5',
    ]).done;
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /reusing ephemeral container netdiag-sniff-/);
    assert.equal(ephemeralCount(ns, 'dnsloop'), before);
  });

  it('-o - streams a pcap tshark reads from stdin (a shell pipe, as users type it)', () => {
    // Node's own stdio pipes are socketpairs, which `tshark -r -` refuses; a shell pipeline gives a real pipe.
    const script =
      '"$0" sniff dnsloop -n "$1" -f "port 53" -o - --duration 6s -q | tshark -r - -Y dns; echo "status=${PIPESTATUS[0]}"';
    const run = spawnSync('bash', ['-c', script, cli, ns], { env, encoding: 'utf8', timeout: 120_000 });
    assert.match(run.stdout, /status=0/, run.stderr);
    assert.match(run.stdout, /Standard query 0x[0-9a-f]+ A kubernetes\.default/);
  });

  it('--tshark shows packets live and passes arguments after --', async () => {
    const run = await netdiag([
      'sniff',
      'dnsloop',
      '-n',
      ns,
      '-f',
      'port 53',
      '--tshark',
      '--duration',
      '6s',
      '--',
      '-Y',
      'dns.flags.response == 1',
    ]).done;
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /Standard query response/);
    assert.doesNotMatch(run.stdout, /Standard query 0x[0-9a-f]+ A /, 'the display filter after -- reached tshark');
  });

  it('captures a 3-pod deployment into one time-ordered pcapng with one interface per pod and names', async () => {
    const file = path.join(dir, 'web.pcapng');
    const run = await netdiag(['sniff', 'deploy/web', '-n', ns, '-o', file, '--duration', '10s', '--stats']).done;
    assert.equal(run.status, 0, run.stderr);
    const info = capinfos(file);
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout, /File type:\s+Wireshark\/\.\.\. - pcapng/);
    assert.match(info.stdout, /Number of interfaces in file: 3/);
    assert.match(info.stdout, /Strict time order:\s+True/);
    const pods = kubectlOk([
      'get',
      'pods',
      '-n',
      ns,
      '-l',
      'app=web',
      '-o',
      'jsonpath={.items[*].metadata.name}',
    ]).split(' ');
    for (const pod of pods)
      assert.match(info.stdout, new RegExp(`k8s\\.pod=${pod}`), `interface description names ${pod}`);
    const hosts = tshark(['-r', file, '-q', '-z', 'hosts']);
    assert.equal(hosts.status, 0, hosts.stderr);
    assert.match(hosts.stdout, new RegExp(`\\s${pods[0]}\\.${ns}`), 'pod names resolved from the NRB');
    assert.match(hosts.stdout, /\skube-dns\.kube-system/, 'Service names resolved from the NRB');
    assert.match(run.stderr, new RegExp(`${ns}/${pods[0]}/main\\s+\\d+ pkts`), 'per-target stats');
  });

  it('svc/NAME captures the endpoint pods of a Service; -l with -A the selected pods of every namespace', async () => {
    kubectlOk(
      ['apply', '-f', '-'],
      `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: ${ns}\nspec:\n  selector:\n    app: web\n  ports:\n  - port: 80\n`,
    );
    await waitFor(
      'the Service endpoints',
      () =>
        kubectlOk([
          'get',
          'endpointslices',
          '-n',
          ns,
          '-l',
          'kubernetes.io/service-name=web',
          '-o',
          'jsonpath={.items[*].endpoints[*].targetRef.name}',
        ])
          .split(' ')
          .filter(Boolean).length === 3,
      60_000,
    );
    const svcFile = path.join(dir, 'svc.pcapng');
    const svc = await netdiag(['sniff', 'svc/web', '-n', ns, '-f', 'port 53', '-o', svcFile, '--count', '4']).done;
    assert.equal(svc.status, 0, svc.stderr);
    assert.match(capinfos(svcFile).stdout, /Number of interfaces in file: 3/);
    const none = await netdiag(['sniff', '-l', 'app=no-such-app', '-A', '-o', path.join(dir, 'none.pcapng')]).done;
    assert.equal(none.status, 2, none.stderr);
    assert.match(none.stderr, /has no running pods/);
    const all = await netdiag([
      'sniff',
      '-l',
      'app=web',
      '-A',
      '-f',
      'port 53',
      '-o',
      path.join(dir, 'all.pcapng'),
      '--count',
      '4',
    ]).done;
    assert.equal(all.status, 0, all.stderr);
    assert.match(all.stderr, new RegExp(`capturing .*${ns}/web-`));
  });

  it('--max-size stops before the file would pass the size, on a record boundary', async () => {
    const file = path.join(dir, 'small.pcap');
    const run = await netdiag([
      'sniff',
      'dnsloop',
      '-n',
      ns,
      '-f',
      'port 53',
      '-o',
      file,
      '--max-size',
      '2k',
      '--duration',
      '60s',
    ]).done;
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /--max-size reached/);
    const size = readFileSync(file).length;
    assert.ok(size <= 2000 && size > 1000, `file size ${size}`);
    assert.equal(capinfos(file).status, 0);
  });

  it("an invalid filter fails with tcpdump's message, exit 2 and no file", async () => {
    const file = path.join(dir, 'bad.pcap');
    const run = await netdiag(['sniff', 'dnsloop', '-n', ns, '-f', 'port 99999 and (', '-o', file, '--duration', '10s'])
      .done;
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /error: tcpdump: (syntax error|illegal port|can't parse filter)/);
    assert.ok(!existsSync(file), 'no output file left');
    assert.deepEqual(tcpdumpsInPod(ns, 'dnsloop'), []);
  });

  it('unknown pod, container and interface exit 2 before anything is created', async () => {
    const before = ephemeralCount(ns, 'dnsloop');
    const pod = await netdiag(['sniff', 'nope', '-n', ns, '-o', path.join(dir, 'x.pcap')]).done;
    assert.equal(pod.status, 2, pod.stderr);
    assert.match(pod.stderr, /pod "nope" not found/);
    const container = await netdiag(['sniff', 'dnsloop', '-n', ns, '-c', 'sidecar', '-o', path.join(dir, 'x.pcap')])
      .done;
    assert.equal(container.status, 2, container.stderr);
    assert.match(container.stderr, /container "sidecar" not found.*\n.*main/);
    const iface = await netdiag([
      'sniff',
      'dnsloop',
      '-n',
      ns,
      '-i',
      'eth9',
      '-o',
      path.join(dir, 'x.pcap'),
      '--duration',
      '5s',
    ]).done;
    assert.equal(iface.status, 2, iface.stderr);
    assert.match(iface.stderr, /eth9/);
    assert.equal(ephemeralCount(ns, 'dnsloop'), before, 'no ephemeral container added');
    assert.ok(!existsSync(path.join(dir, 'x.pcap')));
  });
});
