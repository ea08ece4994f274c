/**
 * The node fleet on a real cluster: every profile on every worker answers `execAll`; a node whose pod cannot run
 * is reported unavailable with the reason while the others answer; nothing is left, also when the run is
 * interrupted while the fleet is still coming up.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeClient } from '../../src/kube/client.js';
import { Fleets, PROFILES, type Fleet, type ProfileName } from '../../src/kube/fleet.js';
import { selectNodes, type SelectedNode } from '../../src/kube/nodes.js';
import { RunSession } from '../../src/kube/session.js';
import { createProgress } from '../../src/lib/progress.js';
import {
  createNamespace,
  env,
  haveCluster,
  kubectlOk,
  MANAGED,
  repoRoot,
  managedPods,
  deleteNamespace,
  TOOLS_IMAGE,
  waitFor,
} from './harness.js';

const LAB_RUN = '/run/netdiag-lab';
const scratch = mkdtempSync(path.join(tmpdir(), 'netdiag-fleet-'));
const cluster = haveCluster();

/** containerd of a lab worker (the lab's nodes are network namespaces of this machine). */
const ctr = (worker: string, args: readonly string[]) =>
  spawnSync('ctr', ['--address', `${LAB_RUN}/${worker}/containerd.sock`, '-n', 'k8s.io', ...args], {
    encoding: 'utf8',
  });

/** Exec attempts into one starting pod: 0.1, 0.15, 0.23, 0.34, 0.51, 0.76, 1, 1 s apart cover its start. */
const MAX_PROBES_PER_POD = 8;

describe('node fleet', { skip: cluster ? false : 'no cluster in KUBECONFIG' }, () => {
  let namespace: string;
  let client: KubeClient;
  let nodes: string[];
  let selected: SelectedNode[];
  const sessions: RunSession[] = [];

  before(async () => {
    namespace = createNamespace('netdiag-fleet');
    client = KubeClient.fromAccess({ namespace, requestTimeoutMs: 30_000 }, env);
    selected = await selectNodes(client, {}, AbortSignal.timeout(30_000));
    nodes = selected.map((node) => node.name);
    assert.ok(nodes.length >= 3, `expected the lab's 3 workers, got ${nodes.join(', ')}`);
  });
  after(async () => {
    for (const session of sessions) await session.cleanup();
    // Other suites may run at the same time: only this suite's namespace is judged.
    assert.deepEqual(managedPods('netdiag-', namespace), [], 'no helper pod is left');
    deleteNamespace(namespace);
    rmSync(scratch, { recursive: true, force: true });
  });

  const fleetsFor = (image = TOOLS_IMAGE, podRunningTimeoutMs = 90_000) => {
    const session = new RunSession(client);
    sessions.push(session);
    return {
      session,
      fleets: new Fleets({
        client,
        session,
        progress: createProgress({ mode: 'quiet', verbose: false }),
        signal: AbortSignal.timeout(300_000),
        namespace,
        image,
        podRunningTimeoutMs,
      }),
    };
  };

  for (const profile of Object.keys(PROFILES) as ProfileName[]) {
    it(`${profile}: a pod on every worker, execAll answers from each node`, async () => {
      const { fleets, session } = fleetsFor();
      const watchesBefore = client.requestCount;
      const fleet = await fleets.get(profile, nodes);
      assert.deepEqual(fleet.unavailable, []);
      assert.deepEqual(
        fleet.members.map((m) => m.node),
        nodes,
      );
      // The pods were created in one go and followed by one list+watch, plus exec probes that back off from 0.1 s
      // to 1 s (a pod starts in about a second here: a handful each), not a poll of the API per pod.
      assert.ok(
        client.requestCount - watchesBefore <= nodes.length * (1 + MAX_PROBES_PER_POD) + 3,
        `${client.requestCount - watchesBefore} requests`,
      );
      // `hostname` and eth0's address: a pod-network pod is named after itself and has its pod IP; a host-network
      // pod has the node's address (on the lab the workers share the machine's UTS name, so the address tells).
      const outcomes = await fleet.execAll(
        ['sh', '-c', 'echo "$(hostname) $(ip -4 -o addr show dev eth0 | awk \'{print $4}\' | cut -d/ -f1)"'],
        (output) => {
          const [hostname, address] = output.stdout.trim().split(' ');
          return { hostname, address };
        },
        { timeoutMs: 20_000, concurrency: 2 },
      );
      assert.deepEqual(
        outcomes.map((o) => o.ok),
        nodes.map(() => true),
        JSON.stringify(outcomes),
      );
      for (const outcome of outcomes) {
        assert.ok(outcome.ok);
        const member = fleet.member(outcome.node);
        const node = selected.find((n) => n.name === outcome.node);
        if (PROFILES[profile].hostNetwork) {
          assert.equal(outcome.value.address, node?.internalIP, JSON.stringify(outcome));
          assert.equal(member?.podIP, node?.internalIP);
        } else {
          assert.equal(outcome.value.hostname, member?.pod, JSON.stringify(outcome));
          assert.equal(outcome.value.address, member?.podIP, JSON.stringify(outcome));
        }
        assert.equal(member?.hostIP, node?.internalIP);
      }
      const pods = kubectlOk(['get', 'pods', '-n', namespace, '-l', session.selector, '-o', 'name']).trim().split('\n');
      assert.equal(pods.length, nodes.length);
      assert.deepEqual(
        await fleets.get(profile, nodes.slice(0, 2)).then((f: Fleet) => f.members.map((m) => m.pod)),
        fleet.members.slice(0, 2).map((m) => m.pod),
        'a second engine asking for fewer nodes shares the pods',
      );
      await session.cleanup();
      assert.equal(kubectlOk(['get', 'pods', '-n', namespace, '-l', session.selector, '-o', 'name']).trim(), '');
    });
  }

  describe(
    'a node without the image',
    { skip: existsSync(LAB_RUN) ? false : 'needs the lab (image tags per node)' },
    () => {
      const tag = `${TOOLS_IMAGE.replace(/:[^:/]+$/, '')}:fleet-e2e-${process.pid}`;
      let missing: string;
      before(() => {
        // Only the first two workers have the tag: the third cannot pull it (the lab has no registry).
        missing = nodes[2] as string;
        for (const node of nodes.slice(0, 2)) {
          const worker = node.split('.')[0] as string;
          const tagged = ctr(worker, ['images', 'tag', '--force', TOOLS_IMAGE, tag]);
          assert.equal(tagged.status, 0, tagged.stderr);
        }
      });
      after(() => {
        for (const node of nodes.slice(0, 2)) ctr(node.split('.')[0] as string, ['images', 'rm', tag]);
      });

      it('is reported unavailable with the reason while the others answer', async () => {
        const { fleets } = fleetsFor(tag);
        const fleet = await fleets.get('pod-probe', nodes);
        assert.deepEqual(
          fleet.members.map((m) => m.node),
          nodes.slice(0, 2),
        );
        assert.equal(fleet.unavailable.length, 1);
        assert.equal(fleet.unavailable[0]?.node, missing);
        assert.equal(fleet.unavailable[0]?.profile, 'pod-probe');
        assert.match(fleet.unavailable[0]?.reason ?? '', /cannot pull image .*fleet-e2e/);
        const outcomes = await fleet.execAll(['true'], () => 'ok', { timeoutMs: 10_000 });
        assert.deepEqual(
          outcomes.map((o) => `${o.node}:${o.ok}`),
          nodes.slice(0, 2).map((node) => `${node}:true`),
        );
      });

      it('interrupted while coming up (SIGINT): the run exits 130 and leaves no pod', async () => {
        const driver = spawn(
          process.execPath,
          [
            path.join(repoRoot, 'dist', 'test', 'e2e', 'fleet-driver.js'),
            namespace,
            tag,
            'node-inspector',
            nodes.join(','),
          ],
          { env, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let stdout = '';
        let stderr = '';
        driver.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        driver.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const exited = new Promise<number | null>((resolve) => driver.on('close', resolve));
        const session = await waitFor(
          'the driver’s session id',
          () => /^session ([0-9a-f]{8})$/m.exec(stdout)?.[1],
          30_000,
        );
        const selector = `${MANAGED},kubectl-netdiag/session=${session}`;
        // Two pods run, the third waits for an image it will never get: the fleet is still coming up.
        await waitFor(
          'two running pods of the interrupted fleet',
          () =>
            kubectlOk(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'jsonpath={.items[*].status.phase}'])
              .split(' ')
              .filter((phase) => phase === 'Running').length >= 2,
          90_000,
        );
        driver.kill('SIGINT');
        assert.equal(await exited, 130, stderr);
        assert.match(stderr, /cleaned up 3 pod\(s\), 0 failed/);
        assert.equal(kubectlOk(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'name']).trim(), '');
      });
    },
  );
});
