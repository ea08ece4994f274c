/**
 * Capture modes end to end: node mode (-p) on a pod and on a node, upload mode, and what works in namespaces that
 * enforce PodSecurity baseline / restricted, and for locked-down identities (a namespaced ServiceAccount).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  capinfos,
  createNamespace,
  dnsLoopPod,
  dnsQueries,
  env,
  ephemeralCount,
  haveCluster,
  kubectl,
  kubectlOk,
  managedPods,
  namespacedIdentity,
  noEphemeralContainersPolicy,
  netdiag,
  tshark,
  uploadLeftovers,
  waitFor,
  waitPodsReady,
  suffix,
  tearDown,
} from './sniff.support.js';

const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-sniff-modes-'));
const namespaces: string[] = [];
let ns = '';

/** `kubectl netdiag sniff dnsloop -n NAMESPACE ARGS…` as the identity of `kubeconfigFile`, run to the end. */
const sniffDnsloopAs = (kubeconfigFile: string | undefined, namespace: string, ...args: string[]) =>
  netdiag(['sniff', 'dnsloop', '-n', namespace, ...args], kubeconfigFile ? { env: { KUBECONFIG: kubeconfigFile } } : {})
    .done;
/** The same as the admin of the cluster under test. */
const sniffDnsloop = (namespace: string, ...args: string[]) => sniffDnsloopAs(undefined, namespace, ...args);

describe('sniff capture modes', { timeout: 900_000 }, () => {
  before(() => {
    assert.ok(haveCluster(), `no cluster reachable with KUBECONFIG=${env.KUBECONFIG}`);
    ns = createNamespace('netdiag-e2e');
    namespaces.push(ns);
    kubectlOk(['apply', '-f', '-'], dnsLoopPod(ns, 'dnsloop', { nodeName: 'worker3.kube.local' }));
    waitPodsReady(ns, 'app=dnsloop', 1);
  });

  after(() => tearDown(dir, namespaces));

  it('node mode (-p) captures the pod from a privileged helper pod and deletes it', async () => {
    const file = path.join(dir, 'node-mode.pcap');
    const run = await sniffDnsloop(ns, '-p', '-f', 'port 53', '-o', file, '--duration', '8s');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /node mode/);
    assert.equal(capinfos(file).status, 0);
    assert.ok(dnsQueries(file).includes(`kubernetes.default.${ns}.svc.cluster.local`));
    assert.deepEqual(managedPods(), []);
  });

  it('upload mode uploads a static tcpdump once, reuses it on the next run, and cleanup removes it', async () => {
    const file = path.join(dir, 'upload.pcap');
    const run = await sniffDnsloop(ns, '--mode', 'upload', '-f', 'port 53', '-o', file, '--duration', '6s', '-v');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /uploaded static tcpdump \(linux\/amd64/);
    assert.ok(dnsQueries(file).includes('kubernetes.default.svc.cluster.local'));
    assert.doesNotMatch(uploadLeftovers(ns, 'dnsloop'), /tcpdump -U/, 'no tcpdump left running');
    assert.match(uploadLeftovers(ns, 'dnsloop'), /^\/tmp\/netdiag-tcpdump$/m, 'the binary is kept for the next run');

    const again = await sniffDnsloop(ns, '--mode', 'upload', '-f', 'port 53', '-o', file, '--duration', '3s');
    assert.equal(again.status, 0, again.stderr);
    assert.match(
      again.stderr,
      /reusing the static tcpdump uploaded earlier to .*\/tmp\/netdiag-tcpdump \(same SHA-256\)/,
    );
    assert.doesNotMatch(again.stderr, /uploaded static tcpdump/);
    assert.ok(dnsQueries(file).length > 0);

    const cleanup = await netdiag(['cleanup', '-n', ns]).done;
    assert.equal(cleanup.status, 0, cleanup.stderr);
    assert.match(cleanup.stdout, /uploaded tcpdump\s+\S+\s+dnsloop\/main:\/tmp\/netdiag-tcpdump\s+deleted/);
    // The watchdog sees its directory gone within its 2 s period and exits.
    await waitFor('the kept upload and its watchdog to be gone', () => uploadLeftovers(ns, 'dnsloop') === '', 15_000);
  });

  it('node/NAME captures host traffic of worker2 from a hostNetwork helper pod', async () => {
    const file = path.join(dir, 'worker2.pcap');
    const run = await netdiag(['sniff', 'node/worker2.kube.local', '-o', file, '--duration', '6s']).done;
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /node mode/);
    const info = capinfos(file);
    assert.equal(info.status, 0, info.stderr);
    const packets = Number(/Number of packets:\s+(\d+)/.exec(info.stdout)?.[1] ?? 0);
    assert.ok(packets > 0, "host traffic (the kubelet's own API connection) captured");
    const tcp = tshark(['-r', file, '-Y', 'tcp', '-T', 'fields', '-e', 'tcp.port']);
    assert.ok(tcp.stdout.trim().length > 0);
    assert.deepEqual(managedPods(), []);
  });

  it('in a baseline namespace: ephemeral mode with the runtime default capabilities captures', async () => {
    const baseline = createNamespace('netdiag-e2e-baseline', 'baseline');
    namespaces.push(baseline);
    kubectlOk(['apply', '-f', '-'], dnsLoopPod(baseline, 'dnsloop'));
    waitPodsReady(baseline, 'app=dnsloop', 1);
    const file = path.join(dir, 'baseline.pcap');
    const run = await sniffDnsloop(baseline, '-f', 'port 53', '-o', file, '--duration', '8s');
    assert.equal(run.status, 0, run.stderr);
    assert.match(
      run.stderr,
      /ephemeral mode: ephemeral container with the runtime's default capabilities \(PodSecurity "baseline"/,
    );
    assert.ok(dnsQueries(file).length > 0);
  });

  it('in a restricted namespace: auto skips ephemeral (says why) and captures in node mode', async () => {
    const restricted = createNamespace('netdiag-e2e-restricted', 'restricted');
    namespaces.push(restricted);
    kubectlOk(['apply', '-f', '-'], dnsLoopPod(restricted, 'dnsloop', { restricted: true }));
    waitPodsReady(restricted, 'app=dnsloop', 1);
    const explicit = await sniffDnsloop(restricted, '--mode', 'ephemeral', '-o', path.join(dir, 'r0.pcap'));
    assert.equal(explicit.status, 3, explicit.stderr);
    assert.match(explicit.stderr, /PodSecurity "restricted"/);
    assert.match(explicit.stderr, /fix: use --mode node/);
    const upload = await sniffDnsloop(restricted, '--mode', 'upload', '-o', path.join(dir, 'r1.pcap'));
    assert.equal(upload.status, 3, upload.stderr);
    assert.match(upload.stderr, /drops NET_RAW|non-root/);
    const file = path.join(dir, 'restricted.pcap');
    const run = await sniffDnsloop(restricted, '-f', 'port 53', '-o', file, '--duration', '8s');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /node mode: .*skipped ephemeral \(PodSecurity "restricted"/);
    assert.ok(dnsQueries(file).length > 0);
  });

  it('a capture image the nodes cannot pull: both ways out named, no second broken container, upload captures', async () => {
    kubectlOk(['apply', '-f', '-'], dnsLoopPod(ns, 'nopull'));
    waitPodsReady(ns, 'app=nopull', 1);
    const bogus = 'registry.invalid/netdiag/tcpdump:0';
    const sniffWith = (file: string, ...extra: string[]) =>
      netdiag(['sniff', 'nopull', '-n', ns, '-o', path.join(dir, file), '--duration', '3s', ...extra]).done;
    const first = await sniffWith('np1.pcap', '--tcpdump-image', bogus, '--pod-running-timeout', '3m');
    assert.equal(first.status, 3, first.stderr);
    assert.match(
      first.stderr,
      new RegExp(`error: cannot pull image ${bogus.replaceAll('.', '\\.')} for ephemeral container`),
    );
    assert.match(first.stderr, /fix: pass --tcpdump-image .*or use --mode upload, which needs no image/);
    assert.equal(ephemeralCount(ns, 'nopull'), 1);
    const second = await sniffWith('np2.pcap', '--tcpdump-image', bogus);
    assert.equal(second.status, 3, second.stderr);
    assert.match(second.stderr, /error: cannot pull image/);
    assert.equal(ephemeralCount(ns, 'nopull'), 1, 'the second run added no container that could not start either');
    const upload = await sniffWith('np3.pcap', '--mode', 'upload');
    assert.equal(upload.status, 0, upload.stderr);
    assert.equal(capinfos(path.join(dir, 'np3.pcap')).status, 0);
  });

  it('a ValidatingAdmissionPolicy refusing ephemeral containers (preflight cannot see it): auto falls back to node mode', async () => {
    const policyNs = createNamespace('netdiag-e2e-policy');
    namespaces.push(policyNs);
    const policy = `netdiag-e2e-no-ephemeral-${suffix()}`;
    kubectlOk(['apply', '-f', '-'], noEphemeralContainersPolicy(policy, policyNs));
    try {
      kubectlOk(['apply', '-f', '-'], dnsLoopPod(policyNs, 'dnsloop'));
      waitPodsReady(policyNs, 'app=dnsloop', 1);
      // Policies take effect a moment after they are created: wait until a server-side dry run is refused.
      await waitFor(
        'the policy to refuse ephemeral containers',
        () =>
          /denied request/.test(
            kubectl([
              'patch',
              'pod',
              'dnsloop',
              '-n',
              policyNs,
              '--subresource=ephemeralcontainers',
              '--dry-run=server',
              '-p',
              '{"spec":{"ephemeralContainers":[{"name":"probe","image":"busybox"}]}}',
            ]).stderr,
          ),
        60_000,
      );
      const explicit = await sniffDnsloop(policyNs, '--mode', 'ephemeral', '-o', path.join(dir, 'p0.pcap'));
      assert.equal(explicit.status, 3, explicit.stderr);
      assert.match(
        explicit.stderr,
        new RegExp(`error: ValidatingAdmissionPolicy ${policy} rejects an ephemeral container`),
      );
      assert.match(explicit.stderr, /fix: ask the policy's owner for an exception.*or use --mode auto/);
      const file = path.join(dir, 'policy.pcap');
      const run = await sniffDnsloop(policyNs, '-f', 'port 53', '-o', file, '--duration', '5s');
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stderr, /ephemeral mode: /, 'preflight saw nothing against ephemeral mode');
      assert.match(
        run.stderr,
        new RegExp(`node mode: .*skipped ephemeral \\(admission refused it: ValidatingAdmissionPolicy ${policy} `),
      );
      assert.ok(dnsQueries(file).includes('kubernetes.default.svc.cluster.local'));
      assert.equal(ephemeralCount(policyNs, 'dnsloop'), 0);
    } finally {
      kubectl(['delete', 'validatingadmissionpolicybinding,validatingadmissionpolicy', policy, '--ignore-not-found']);
    }
  });

  it('an identity that may only read pods: the preflight names the missing verbs (exit 3) and creates nothing', async () => {
    const ephemeralBefore = ephemeralCount(ns, 'dnsloop');
    const readOnly = namespacedIdentity(dir, ns, 'reader', [{ resources: ['pods'], verbs: ['get', 'list', 'watch'] }]);
    const run = await sniffDnsloopAs(readOnly, ns, '-o', path.join(dir, 'ro.pcap'));
    assert.equal(run.status, 3, run.stderr);
    assert.match(run.stderr, /no capture mode will work/);
    assert.match(run.stderr, /patch pods\/ephemeralcontainers/);
    assert.match(run.stderr, /create pods\/exec/);
    assert.ok(!existsSync(path.join(dir, 'ro.pcap')));
    assert.equal(ephemeralCount(ns, 'dnsloop'), ephemeralBefore, 'no ephemeral container was added');
  });

  it('an identity with only create on pods/exec (WebSocket exec also needs get): refused by preflight, exit 3', async () => {
    const createOnly = namespacedIdentity(dir, ns, 'spdy-era', [
      { resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { resources: ['pods/exec'], verbs: ['create'] },
    ]);
    const run = await sniffDnsloopAs(createOnly, ns, '--mode', 'upload', '-o', path.join(dir, 'co.pcap'));
    assert.equal(run.status, 3, run.stderr);
    assert.match(run.stderr, /--mode upload will not work: RBAC: you may not get pods\/exec/);
    assert.match(run.stderr, /fix: ask for .*get\+create on pods\/exec/);
    assert.equal(uploadLeftovers(ns, 'dnsloop'), '', 'nothing was uploaded');
  });

  it('an identity with exec but no ephemeral containers or helper pods: auto picks upload mode, says why, captures', async () => {
    const ephemeralBefore = ephemeralCount(ns, 'dnsloop');
    const execOnly = namespacedIdentity(dir, ns, 'operator', [
      { resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { resources: ['pods/exec'], verbs: ['get', 'create'] },
    ]);
    const file = path.join(dir, 'exec-only.pcap');
    const run = await sniffDnsloopAs(execOnly, ns, '-f', 'port 53', '-o', file, '--duration', '6s');
    assert.equal(run.status, 0, run.stderr);
    assert.match(
      run.stderr,
      /upload mode: .*skipped ephemeral \(RBAC: you may not patch pods\/ephemeralcontainers\); node \(RBAC: you may not create pods in namespace /,
    );
    assert.ok(dnsQueries(file).includes('kubernetes.default.svc.cluster.local'));
    const left = uploadLeftovers(ns, 'dnsloop');
    assert.doesNotMatch(left, /tcpdump -U/, 'no tcpdump left running');
    assert.match(left, /^\/tmp\/netdiag-tcpdump$/m, 'kept for the next run, bounded by its watchdog');
    kubectlOk(['exec', '-n', ns, 'dnsloop', '-c', 'main', '--', 'rm', '-rf', '/tmp/netdiag-tcpdump']);
    assert.equal(ephemeralCount(ns, 'dnsloop'), ephemeralBefore, 'no ephemeral container was added');
  });
});
