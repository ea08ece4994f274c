/**
 * `kubectl netdiag doctor` under each lab fault of issue 15's acceptance: the right diagnosis id on the right subject
 * (from `-o json`), exit 1 under a fault and 0 on the healthy lab. `--quick` (no bandwidth) except where the fault
 * is only seen by measuring (loss, rate), which run alone.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Change } from '../../../src/doctor/baseline.js';
import { type DoctorResult } from '../../../src/doctor/report.js';
import { assertNotBlank, screenshot } from '../../browser.js';
import { assertMatchesSchema } from '../../schema.js';
import { tshark } from '../sniff.support.js';
import {
  assertNotReported,
  assertReported,
  FAULTS,
  labNode,
  nodeSubject,
  pairSubject,
  parseJson,
  type CliRun,
  type Fault,
  type FaultScenario,
  type ScenarioContext,
} from './registry.js';

/** The healthy run's baseline, for the scenario that compares a faulted run with it (the healthy lab runs first). */
let healthyBaseline: string | undefined;

/**
 * The lab's outside world (docs/lab.md): a name through CoreDNS's upstream, a port by that name, and the web server's
 * address, so egress (the address fails) and upstream DNS (the name fails) are told apart.
 */
const OUTSIDE = ['--external-name', 'www.netdiag.test', '--target', 'www.netdiag.test:80', '--ping', '172.30.78.80'];

async function doctor(ctx: ScenarioContext, args: readonly string[]): Promise<{ run: CliRun; result: DoctorResult }> {
  const run = await ctx.netdiag(['doctor', '-o', 'json', ...OUTSIDE, ...args]);
  const result = parseJson<DoctorResult>(run);
  assertMatchesSchema('doctor', result);
  return { run, result };
}

/** A doctor run under `fault` must name `id` on `subject` as an error and exit 1. */
function diagnoses(
  fault: Fault,
  id: string,
  subject: string,
  options: { quick?: boolean; title?: string; extra?: (result: DoctorResult, ctx: ScenarioContext) => void } = {},
): FaultScenario {
  const quick = options.quick ?? true;
  return {
    fault,
    command: 'doctor',
    title: options.title ?? `names ${id} on ${subject}${quick ? ' (--quick)' : ''}`,
    exclusive: !quick,
    async run(ctx) {
      const { run, result } = await doctor(ctx, quick ? ['--quick'] : []);
      assertReported(result.data.diagnoses, { id, subject, severity: 'error' });
      assert.equal(run.status, 1, `doctor exits 1 under ${fault.name}; stderr: ${run.stderr.slice(-1500)}`);
      options.extra?.(result, ctx);
    },
  };
}

export const scenarios: readonly FaultScenario[] = [
  {
    fault: FAULTS.healthy,
    command: 'doctor',
    title: 'healthy lab: exit 0, no error diagnosis; saves a baseline',
    async run(ctx) {
      const baseline = path.join(ctx.scratch, 'healthy-baseline.json');
      const { run, result } = await doctor(ctx, ['--quick', '--save-baseline', baseline]);
      assertNotReported(result.data.diagnoses, 'doctor.kube-proxy', ['error']);
      assert.deepEqual(
        result.data.diagnoses.filter((d) => d.severity === 'error'),
        [],
        'no error diagnosis on the healthy lab',
      );
      assert.equal(run.status, 0, run.stderr.slice(-1500));
      assert.ok(existsSync(baseline), '--save-baseline wrote the file');
      healthyBaseline = baseline;
    },
  },
  {
    fault: FAULTS.healthy,
    command: 'doctor',
    title: 'healthy lab: the html report renders in headless Chromium with its diagnoses section',
    async run(ctx) {
      const run = await ctx.netdiag(['doctor', '--quick', '-o', 'html', ...OUTSIDE]);
      assert.equal(run.status, 0, run.stderr.slice(-1500));
      assert.match(run.stdout, /<h2>Diagnoses<\/h2>/);
      const report = path.join(ctx.scratch, 'doctor.html');
      writeFileSync(report, run.stdout);
      assertNotBlank(screenshot(report, path.join(ctx.scratch, 'doctor.png'), ctx.scratch));
    },
  },
  diagnoses(FAULTS.kubeProxyBroken, 'doctor.kube-proxy', nodeSubject('worker3'), {
    extra: (result) => {
      // DNS fails on worker3 for the same reason: no nodelocaldns diagnosis there.
      assertNotReported(result.data.diagnoses, 'doctor.nodelocaldns', ['error', 'warning'], nodeSubject('worker3'));
    },
  }),
  {
    fault: FAULTS.kubeProxyBroken,
    command: 'doctor',
    title: '--baseline after the fault reports the new failures as changes',
    async run(ctx) {
      assert.ok(healthyBaseline, 'the healthy scenario saved a baseline before this fault');
      const { run, result } = await doctor(ctx, ['--quick', '--baseline', healthyBaseline]);
      const changes: readonly Change[] = result.data.baseline?.changes ?? [];
      const failed = changes.filter((c) => c.kind === 'new-failure');
      assert.ok(
        failed.some((c) => c.subject === nodeSubject('worker3') || c.subject.endsWith(`→${labNode('worker3')}`)),
        `a new failure on worker3 among: ${JSON.stringify(failed.map((c) => `${c.id} ${c.subject}`))}`,
      );
      assert.equal(run.status, 1);
    },
  },
  diagnoses(FAULTS.nodelocaldnsDown, 'doctor.nodelocaldns', nodeSubject('worker2')),
  {
    fault: FAULTS.apiserverRestart,
    command: 'doctor',
    title: 'rides out an API server restart in the middle of its run: every step runs, its pods are deleted',
    exclusive: true,
    async run(ctx) {
      const running = doctor(ctx, ['--quick']);
      // Helper pods are being created and watched by then; the restart refuses connections for a few seconds.
      await sleep(1500);
      await ctx.lab(['fault', 'apiserver-restart']);
      const { run, result } = await running;
      assert.ok(run.status === 0 || run.status === 1, `exit ${run.status}; stderr: ${run.stderr.slice(-1500)}`);
      assert.deepEqual(
        result.data.steps.filter((step) => step.status === 'failed'),
        [],
        'no step failed for the restart',
      );
      assert.doesNotMatch(run.stderr, /could not delete/, 'the run deleted what it made');
    },
  },
  diagnoses(FAULTS.corednsDown, 'doctor.coredns', 'cluster'),
  diagnoses(FAULTS.controllerManagerDown, 'doctor.service-endpoints', 'cluster', {
    extra: (result) => assertNotReported(result.data.diagnoses, 'doctor.kube-proxy', ['error', 'warning']),
  }),
  diagnoses(FAULTS.upstreamDown, 'doctor.upstream-dns', 'cluster', {
    extra: (result) => assertNotReported(result.data.diagnoses, 'doctor.egress', ['error']),
  }),
  diagnoses(FAULTS.egressBlock, 'doctor.egress', nodeSubject('worker1'), {
    extra: (result) => assertNotReported(result.data.diagnoses, 'doctor.upstream-dns', ['error']),
  }),
  diagnoses(FAULTS.podnetSplit, 'doctor.podnet-path', pairSubject('worker1', 'worker2')),
  {
    fault: FAULTS.podnetSplit,
    command: 'doctor',
    title: '--capture-failures attaches a capture: probes leave worker1 and do not arrive at worker2',
    async run(ctx) {
      const nodes = ['--nodes', `${labNode('worker1')},${labNode('worker2')}`];
      const { run, result } = await doctor(ctx, ['--quick', '--capture-failures', ...nodes]);
      assert.equal(run.status, 1, run.stderr.slice(-1500));
      const subject = pairSubject('worker1', 'worker2');
      const capture = result.data.captures.find(
        (c) => c.diagnosis.id === 'doctor.podnet-path' && c.diagnosis.subject === subject,
      );
      assert.ok(capture, `a capture for doctor.podnet-path ${subject}: ${JSON.stringify(result.data.captures)}`);
      assert.ok(capture.sent > 0, `the probes left ${capture.from}: ${JSON.stringify(capture)}`);
      assert.equal(capture.arrived, 0, `nothing arrived at ${capture.to}: ${JSON.stringify(capture)}`);
      // The file says so too, read by tshark: every probe packet was seen at the sending pod, none at the other.
      const read = tshark([
        '-r',
        path.resolve(ctx.scratch, capture.file),
        '-T',
        'fields',
        '-e',
        'ip.src',
        '-e',
        'ip.dst',
      ]);
      assert.equal(read.status, 0, read.stderr);
      assert.equal(read.stdout.split('\n').filter(Boolean).length, capture.sent);
    },
  },
  diagnoses(FAULTS.mtu, 'doctor.mtu', nodeSubject('worker2')),
  diagnoses(FAULTS.loss, 'doctor.firewall', nodeSubject('worker3'), { quick: false }),
  diagnoses(FAULTS.rate, 'doctor.traffic-shaping', nodeSubject('worker2'), {
    quick: false,
    extra(result) {
      // One cause, one diagnosis: the slow pairs, the node's rate limit and its odd fact are all its evidence.
      assertNotReported(result.data.diagnoses, 'doctor.bandwidth-outlier', ['error', 'warning']);
      assertNotReported(result.data.diagnoses, 'doctor.odd-node', ['error', 'warning']);
      const shaping = result.data.diagnoses.find((d) => d.id === 'doctor.traffic-shaping');
      assert.match(shaping?.cause ?? '', /eth0 is limited to 100\.0 Mbit\/s by a tbf qdisc/);
      assert.ok(shaping?.supporting.some((ref) => ref.id === 'node.interface.rate-limit'));
    },
  }),
];
