import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertNotReported,
  assertReported,
  faultKey,
  FAULTS,
  planFaultRuns,
  type Fault,
  type FaultScenario,
} from '../../e2e/faults/registry.js';

const scenario = (command: string, fault: Fault, exclusive = false): FaultScenario => ({
  fault,
  command,
  title: `${command} under ${faultKey(fault)}`,
  exclusive,
  run: async () => {},
});

const summary = (scenarios: readonly FaultScenario[]) =>
  planFaultRuns(scenarios).map((run) => ({
    fault: faultKey(run.fault),
    parallel: run.parallel.map((s) => s.command),
    exclusive: run.exclusive.map((s) => s.command),
  }));

describe('planFaultRuns', () => {
  const table: { name: string; scenarios: FaultScenario[]; expected: ReturnType<typeof summary> }[] = [
    { name: 'nothing registered, nothing injected', scenarios: [], expected: [] },
    {
      name: 'one injection per distinct fault; measuring scenarios apart',
      scenarios: [
        scenario('dns', FAULTS.nodelocaldnsDown),
        scenario('doctor', FAULTS.rate),
        scenario('bw', FAULTS.rate, true),
        scenario('doctor', FAULTS.nodelocaldnsDown),
        scenario('check', FAULTS.rate),
      ],
      expected: [
        { fault: 'rate worker2 100', parallel: ['doctor', 'check'], exclusive: ['bw'] },
        { fault: 'nodelocaldns-down worker2', parallel: ['dns', 'doctor'], exclusive: [] },
      ],
    },
    {
      name: 'healthy first, uplink faults, then DNS, kube-proxy, CoreDNS, API server restart last',
      scenarios: [
        scenario('a', { name: 'apiserver-restart', args: [] }),
        scenario('b', FAULTS.corednsDown),
        scenario('c', FAULTS.kubeProxyBroken),
        scenario('d', FAULTS.upstreamDown),
        scenario('e', FAULTS.podnetSplit),
        scenario('f', FAULTS.mtu),
        scenario('g', FAULTS.healthy),
        scenario('h', FAULTS.loss),
      ],
      expected: [
        { fault: 'healthy', parallel: ['g'], exclusive: [] },
        { fault: 'loss worker3 10', parallel: ['h'], exclusive: [] },
        { fault: 'mtu worker2 1400', parallel: ['f'], exclusive: [] },
        { fault: 'podnet-split worker1 worker2', parallel: ['e'], exclusive: [] },
        { fault: 'upstream-down', parallel: ['d'], exclusive: [] },
        { fault: 'kube-proxy-broken worker3', parallel: ['c'], exclusive: [] },
        { fault: 'coredns-down', parallel: ['b'], exclusive: [] },
        { fault: 'apiserver-restart', parallel: ['a'], exclusive: [] },
      ],
    },
    {
      name: 'the same fault with other arguments is another injection',
      scenarios: [scenario('x', { name: 'loss', args: ['worker1', '30'] }), scenario('y', FAULTS.loss)],
      expected: [
        { fault: 'loss worker1 30', parallel: ['x'], exclusive: [] },
        { fault: 'loss worker3 10', parallel: ['y'], exclusive: [] },
      ],
    },
  ];
  for (const { name, scenarios, expected } of table) it(name, () => assert.deepEqual(summary(scenarios), expected));
});

describe('assertReported / assertNotReported', () => {
  const reported = [
    { id: 'doctor.kube-proxy', subject: 'node/worker3.kube.local', severity: 'error' },
    { id: 'dns.lookup.cluster', subject: 'node/worker3.kube.local', status: 'fail' },
  ];
  it('finds by id and subject, and by status or severity when given', () => {
    assertReported(reported, { id: 'doctor.kube-proxy', subject: 'node/worker3.kube.local' });
    assertReported(reported, { id: 'dns.lookup.cluster', subject: 'node/worker3.kube.local', status: 'fail' });
  });
  it('fails naming what was reported instead', () => {
    assert.throws(
      () => assertReported(reported, { id: 'doctor.kube-proxy', subject: 'node/worker2.kube.local' }),
      /doctor\.kube-proxy node\/worker3\.kube\.local error/,
    );
    assert.throws(() =>
      assertReported(reported, { id: 'dns.lookup.cluster', subject: 'node/worker3.kube.local', status: 'pass' }),
    );
  });
  it('assertNotReported fails only on a matching status', () => {
    assertNotReported(reported, 'dns.lookup.cluster', ['pass']);
    assertNotReported(reported, 'dns.lookup.cluster', ['fail'], 'node/worker1.kube.local');
    assert.throws(() => assertNotReported(reported, 'doctor.kube-proxy', ['error']));
  });
});
