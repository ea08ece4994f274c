/**
 * `lab down` must leave nothing of the lab behind, the outside world included; `lab up` must then bring it
 * back (warm, from the cache), with 6 workers and back to 3. Runs after the other lab tests: it restarts the
 * cluster, and leaves it with 3 workers.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createToolsPod, kubectl, labScript, readyNodes, skipUnlessLab } from './support.js';

const sh = (cmd: string): string => execFileSync('sh', ['-c', cmd], { encoding: 'utf8' });

function leftovers(): string[] {
  const found: string[] = [];
  // Live processes only: zombies are already dead (their parent, not the lab, has yet to reap them). Lab
  // processes run from …/netdiag-lab/…; a bare "netdiag-lab" would also match the team's lock waiters.
  const procs = sh('ps -eo pid=,stat=,args=')
    .split('\n')
    .filter((line) => /\/netdiag-lab\/|kube-apiserver|kubelet|containerd-shim/.test(line))
    .filter((line) => !/^\s*\d+\s+Z/.test(line))
    .join('\n');
  if (procs) found.push(`processes:\n${procs}`);
  const mounts = sh("findmnt -rn -o TARGET | grep -E '^(/var/lib/netdiag-lab|/run/netdiag-lab)' || true").trim();
  if (mounts) found.push(`mounts:\n${mounts}`);
  const netns = sh("ip netns list | grep -E '^(ndlab-|cni-)' || true").trim();
  if (netns) found.push(`namespaces:\n${netns}`);
  const links = sh("ip -o link show | grep -E 'ndlab' || true").trim();
  if (links) found.push(`interfaces:\n${links}`);
  // Every table: the world's forwarding rules are in filter, anything NATed to it would be in nat.
  const rules = sh("iptables-save | grep -E 'netdiag-lab|ndlab|172\\.30\\.7[78]\\.' || true").trim();
  if (rules) found.push(`iptables:\n${rules}`);
  const routes = sh("ip route show | grep -E '172\\.30\\.7[78]\\.' || true").trim();
  if (routes) found.push(`routes:\n${routes}`);
  const cgroups = readdirSync('/sys/fs/cgroup').filter((c) => existsSync(`/sys/fs/cgroup/${c}/netdiag-lab`));
  if (cgroups.length) found.push(`cgroups in: ${cgroups.join(', ')}`);
  return found;
}

/** Runs `lab up [--workers N]` and checks it printed the export line and left N Ready workers. */
function labUp(workers = 3): void {
  const started = Date.now();
  const up = spawnSync('bash', [labScript, 'up', '--workers', String(workers)], { encoding: 'utf8', timeout: 600_000 });
  assert.equal(up.status, 0, up.stderr);
  assert.match(up.stdout, /^export KUBECONFIG=.*\/kubeconfig$/m);
  const seconds = (Date.now() - started) / 1000;
  process.stderr.write(`# lab up --workers ${workers} took ${seconds.toFixed(0)}s\n`);
  // Warm (everything cached), even 6 workers come up well within the budget of docs/lab.md.
  assert.ok(seconds < 180, `lab up --workers ${workers} took ${seconds.toFixed(0)}s`);
  assert.deepEqual(
    readyNodes(),
    Array.from({ length: workers }, (_, i) => `worker${i + 1}.kube.local`),
  );
}

describe('lab down and up', { skip: skipUnlessLab }, () => {
  it('up recovers a lab whose processes were killed (as at the end of a session)', () => {
    // pkill itself, not through a shell: a shell's command line would match the pattern and be killed too.
    // Only what runs from the lab's directories (…/netdiag-lab/…) and its Kubernetes binaries: a bare
    // "netdiag-lab" would also kill whoever waits on /tmp/netdiag-lab.lock or edits a file of that name.
    spawnSync('pkill', ['-9', '-f', '/netdiag-lab/|bin/kube-']);
    labUp();
  });

  it('down leaves no process, mount, namespace, interface, route, cgroup or iptables rule, world included', () => {
    const down = spawnSync('bash', [labScript, 'down'], { encoding: 'utf8', timeout: 300_000 });
    assert.equal(down.status, 0, down.stderr);
    assert.deepEqual(leftovers(), []);
  });

  it('up --workers 6 after down brings 6 Ready workers back from the cache; the last one reaches the world', () => {
    labUp(6);
    // No clean-up: the next up (back to 3 workers) starts from an empty etcd.
    const ns = 'lab-workers';
    kubectl('create', 'namespace', ns);
    createToolsPod(ns, 'tools-6', 'worker6.kube.local', { app: 'lab-test' }, 'exec sleep infinity');
    kubectl('-n', ns, 'wait', '--for=condition=Ready', 'pod/tools-6', '--timeout=120s');
    const page = kubectl('-n', ns, 'exec', 'tools-6', '--', 'wget', '-qO-', 'http://www.netdiag.test/');
    assert.equal(page.trim(), 'netdiag-lab world: www.netdiag.test');
  });

  it('up --workers 3 goes back to 3 workers', () => {
    labUp(3);
  });
});
