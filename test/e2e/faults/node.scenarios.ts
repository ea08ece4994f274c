/**
 * `kubectl netdiag node` under the lab's faults (run by driver.test.ts, side by side with the other commands'
 * scenarios): the faulted node is named, with the right check, and the others are not.
 */
import assert from 'node:assert/strict';
import type { DiagnosticResult } from '../../../src/findings/model.js';
import type { NodeData } from '../../../src/node/engine.js';
import { NODE_IDS } from '../../../src/node/ids.js';
import {
  assertNotReported,
  assertReported,
  FAULTS,
  labNode,
  nodeSubject,
  otherNodes,
  parseJson,
  type FaultScenario,
  type ScenarioContext,
} from './registry.js';

/** Runs `node -o json` like a user; it must exit 1 (a check failed) under a fault. */
async function nodeFindsAProblem(ctx: ScenarioContext): Promise<DiagnosticResult<NodeData>> {
  const run = await ctx.netdiag(['node', '-o', 'json', '--pod-running-timeout', '3m']);
  const result = parseJson<DiagnosticResult<NodeData>>(run);
  assert.equal(run.status, 1, run.stderr);
  return result;
}

export const scenarios: readonly FaultScenario[] = [
  {
    fault: FAULTS.kubeProxyBroken,
    command: 'node',
    title: "worker3's kube-proxy rules are missing, the other nodes' are complete",
    async run(ctx) {
      const result = await nodeFindsAProblem(ctx);
      assertReported(result.findings, { id: NODE_IDS.kubeProxyRules, subject: nodeSubject('worker3'), status: 'fail' });
      for (const node of otherNodes(ctx.nodes, 'worker3')) {
        assertReported(result.findings, { id: NODE_IDS.kubeProxyRules, subject: `node/${node}`, status: 'pass' });
      }
      const worker3 = result.data.nodes.find((facts) => facts.node === labNode('worker3'));
      assert.equal(worker3?.kubeProxy.running, false, 'kube-proxy is stopped on worker3');
    },
  },
  {
    fault: FAULTS.mtu,
    command: 'node',
    title: 'the node with the smaller uplink MTU is the odd one out, and its pods’ MTU does not fit',
    async run(ctx) {
      const [short, bytes] = FAULTS.mtu.args;
      const result = await nodeFindsAProblem(ctx);
      assertReported(result.findings, { id: NODE_IDS.interfaceMtu, subject: nodeSubject(short), status: 'fail' });
      assertReported(result.findings, { id: NODE_IDS.oddOneOut, subject: nodeSubject(short), status: 'warn' });
      const odd = result.findings.find((f) => f.id === NODE_IDS.oddOneOut && f.subject === nodeSubject(short));
      assert.equal(odd?.metrics?.['underlay MTU'], bytes);
      for (const node of otherNodes(ctx.nodes, short)) {
        assertNotReported(result.findings, NODE_IDS.oddOneOut, ['warn', 'fail'], `node/${node}`);
        assertReported(result.findings, { id: NODE_IDS.interfaceMtu, subject: `node/${node}`, status: 'pass' });
      }
    },
  },
  {
    fault: FAULTS.rate,
    command: 'node',
    title: 'the capped node’s uplink rate limit is named (a warning: a configuration), and it is the odd one out',
    async run(ctx) {
      const [short, mbit] = FAULTS.rate.args;
      const run = await ctx.netdiag(['node', '-o', 'json', '--pod-running-timeout', '3m']);
      const result = parseJson<DiagnosticResult<NodeData>>(run);
      assert.equal(run.status, 0, `warnings only: exit 0; stderr: ${run.stderr}`);
      assertReported(result.findings, { id: NODE_IDS.interfaceRateLimit, subject: nodeSubject(short), status: 'warn' });
      const limit = result.findings.find(
        (f) => f.id === NODE_IDS.interfaceRateLimit && f.subject === nodeSubject(short),
      );
      assert.deepEqual(limit?.metrics, { device: 'eth0', rateBitsPerSecond: Number(mbit) * 1e6, kind: 'tbf' });
      const odd = result.findings.find((f) => f.id === NODE_IDS.oddOneOut && f.subject === nodeSubject(short));
      assert.equal(odd?.metrics?.['underlay rate limit'], `${Number(mbit).toFixed(1)} Mbit/s (tbf)`);
      for (const node of otherNodes(ctx.nodes, short)) {
        assertReported(result.findings, { id: NODE_IDS.interfaceRateLimit, subject: `node/${node}`, status: 'pass' });
        assertNotReported(result.findings, NODE_IDS.oddOneOut, ['warn', 'fail'], `node/${node}`);
      }
    },
  },
];
