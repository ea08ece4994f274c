/**
 * `lab down` must leave nothing of the lab behind; `lab up` must then bring it back (warm, from the cache).
 * Runs after the other lab tests: it restarts the cluster.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const repo = path.resolve(import.meta.dirname, '../../..');
const labScript = path.join(repo, 'scripts/lab/lab');
const kubeconfig = path.join(repo, '.lab/kubeconfig');
const sh = (cmd: string): string => execFileSync('sh', ['-c', cmd], { encoding: 'utf8' });

function leftovers(): string[] {
  const found: string[] = [];
  // Live processes only: zombies are already dead (their parent, not the lab, has yet to reap them).
  const procs = sh('ps -eo pid=,stat=,args=')
    .split('\n')
    .filter((line) => /netdiag-lab|kube-apiserver|kubelet|containerd-shim/.test(line))
    .filter((line) => !/^\s*\d+\s+Z/.test(line))
    .join('\n');
  if (procs) found.push(`processes:\n${procs}`);
  const mounts = sh("findmnt -rn -o TARGET | grep -E '^(/var/lib/netdiag-lab|/run/netdiag-lab)' || true").trim();
  if (mounts) found.push(`mounts:\n${mounts}`);
  const netns = sh("ip netns list | grep -E '^(ndlab-|cni-)' || true").trim();
  if (netns) found.push(`namespaces:\n${netns}`);
  const links = sh("ip -o link show | grep -E 'ndlab' || true").trim();
  if (links) found.push(`interfaces:\n${links}`);
  const rules = sh("iptables-save | grep -E 'netdiag-lab' || true").trim();
  if (rules) found.push(`iptables:\n${rules}`);
  const routes = sh("ip route show | grep -E '172\\.30\\.77\\.' || true").trim();
  if (routes) found.push(`routes:\n${routes}`);
  const cgroups = readdirSync('/sys/fs/cgroup').filter((c) => existsSync(`/sys/fs/cgroup/${c}/netdiag-lab`));
  if (cgroups.length) found.push(`cgroups in: ${cgroups.join(', ')}`);
  return found;
}

const skip = !existsSync(kubeconfig) || process.getuid?.() !== 0 ? 'needs root and a lab' : false;

/** Runs `lab up` and checks it printed the export line and left 3 Ready workers. */
function labUp(): void {
  const started = Date.now();
  const up = spawnSync('bash', [labScript, 'up'], { encoding: 'utf8', timeout: 600_000 });
  assert.equal(up.status, 0, up.stderr);
  assert.match(up.stdout, /^export KUBECONFIG=.*\.lab\/kubeconfig$/m);
  process.stderr.write(`# lab up took ${((Date.now() - started) / 1000).toFixed(0)}s\n`);
  const nodes = execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'get', 'nodes', '--no-headers'], {
    encoding: 'utf8',
  });
  const ready = nodes.split('\n').filter((line) => /\sReady\s/.test(line));
  assert.equal(ready.length, 3, nodes);
}

describe('lab down and up', { skip }, () => {
  it('up recovers a lab whose processes were killed (as at the end of a session)', () => {
    // pkill itself, not through a shell: a shell's command line would match the pattern and be killed too.
    spawnSync('pkill', ['-9', '-f', 'netdiag-lab|bin/kube-']);
    labUp();
  });

  it('down leaves no process, mount, namespace, interface, route, cgroup or iptables rule', () => {
    const down = spawnSync('bash', [labScript, 'down'], { encoding: 'utf8', timeout: 300_000 });
    assert.equal(down.status, 0, down.stderr);
    assert.deepEqual(leftovers(), []);
  });

  it('up after down brings 3 Ready workers back from the cache', () => {
    labUp();
  });
});
