import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endpointsFinding, mtuFinding, mtuSkipped, probeFinding, type ProbeRecord } from '../../../src/check/checks.js';
import { CHECK_IDS } from '../../../src/check/ids.js';
import type { ProbeOutcome } from '../../../src/check/outcome.js';
import { mtuProbe, planProbes, type Probe } from '../../../src/check/probes.js';

const probes = planProbes({
  sources: ['w1', 'w3'],
  nodes: [
    { name: 'w1', internalIP: '172.30.77.11' },
    { name: 'w3', internalIP: '172.30.77.13' },
  ],
  echo: [
    { node: 'w1', podIP: '10.233.64.9' },
    { node: 'w3', podIP: '10.233.66.9' },
  ],
  service: { clusterIP: '10.233.1.2', echoNodePort: 31000, dnsName: 'svc.ns.svc' },
  serviceReady: true,
  outside: { tcp: [], udp: [{ host: '10.0.0.53', port: 53 }], urls: [], ping: [] },
});
const find = (id: string, from: string, to?: string, target?: string): Probe => {
  const probe = probes.find(
    (p) => p.id === id && p.from === from && p.to === to && (target === undefined || p.target === target),
  );
  assert.ok(probe, `${id} ${from} ${to ?? ''}`);
  return probe;
};
const record = (probe: Probe, outcome: ProbeOutcome): ProbeRecord => ({
  probe,
  outcome,
  pod: 'ns/netdiag-pod-probe-abcde',
  exitCode: outcome.ok ? 0 : 1,
  output: outcome.detail,
});

describe('probe findings', () => {
  it('a pair check passes with its subject, layer, target and latency', () => {
    const finding = probeFinding(
      record(find(CHECK_IDS.podToPod, 'w1', 'w3'), { ok: true, detail: '3/3 replies', latencyMs: 0.088 }),
    );
    assert.deepEqual(
      {
        id: finding.id,
        subject: finding.subject,
        status: finding.status,
        metrics: finding.metrics,
        hint: finding.hint,
      },
      {
        id: 'check.l3.pod-pod',
        subject: 'w1→w3',
        status: 'pass',
        metrics: { layer: 'L3', from: 'w1', to: 'w3', target: '10.233.66.9', latencyMs: 0.088 },
        hint: undefined,
      },
    );
    assert.equal(finding.summary, 'ping pod→pod 10.233.66.9: 3/3 replies, 0.09 ms');
    assert.equal(finding.evidence[0]?.command, 'ping -n -c 3 -W 1 -w 2 -i 0.2 10.233.66.9');
  });
  it('a broken ClusterIP from one node fails on that node with the reason and a hint naming it', () => {
    const finding = probeFinding(
      record(find(CHECK_IDS.clusterIP, 'w3', undefined, 'clusterip/tcp'), {
        ok: false,
        reason: 'timeout',
        detail: 'nc: connect to 10.233.1.2 port 9000 (tcp) timed out: Operation now in progress',
      }),
    );
    assert.equal(finding.subject, 'node/w3');
    assert.equal(finding.status, 'fail');
    assert.equal(finding.metrics?.reason, 'timeout');
    assert.equal(finding.metrics?.target, 'clusterip/tcp');
    assert.match(finding.hint ?? '', /kube-proxy there .*node w3/);
  });
  it('the Service-name checks say what they reached once', () => {
    const timeout = { ok: false, reason: 'timeout', detail: 'no answer before the deadline' } as const;
    assert.equal(
      probeFinding(record(find(CHECK_IDS.serviceName, 'w3'), timeout)).summary,
      'TCP to the test Service name: timeout (no answer before the deadline)',
    );
    assert.equal(
      probeFinding(record(find(CHECK_IDS.http, 'w3', undefined, 'name'), timeout)).summary,
      'HTTP GET of the test Service name: timeout (no answer before the deadline)',
    );
  });
  it('a NodePort pair blames the receiving node', () => {
    const finding = probeFinding(
      record(find(CHECK_IDS.nodePort, 'w1', 'w3'), { ok: false, reason: 'refused', detail: 'refused' }),
    );
    assert.equal(finding.subject, 'w1→w3');
    assert.match(finding.hint ?? '', /NodePort on w3/);
  });
  it('a silent UDP target the user named is a warning, the echo Service a failure', () => {
    const silent = { ok: false, reason: 'no-reply', detail: 'no answer' } as const;
    assert.equal(probeFinding(record(find(CHECK_IDS.externalUdp, 'w1'), silent)).status, 'warn');
    assert.equal(
      probeFinding(record(find(CHECK_IDS.clusterIP, 'w1', undefined, 'clusterip/udp'), silent)).status,
      'fail',
    );
  });
});

describe('MTU findings', () => {
  const fullSize = (outcome: ProbeOutcome): ProbeRecord => record(mtuProbe('w1', 'w3', '10.233.66.9', 1472), outcome);

  it('passes when the full-size DF ping passed', () => {
    const finding = mtuFinding({
      from: 'w1',
      to: 'w3',
      fromMtu: 1500,
      toMtu: 1500,
      fullSize: fullSize({ ok: true, detail: '2/2 replies' }),
      largestPassing: 1472,
      searched: [],
    });
    assert.deepEqual([finding.status, finding.metrics?.pathMtu, finding.metrics?.verdict], ['pass', 1500, 'ok']);
  });
  it('names a black hole with the sizes', () => {
    const finding = mtuFinding({
      from: 'w1',
      to: 'w3',
      fromMtu: 1500,
      toMtu: 1500,
      fullSize: fullSize({ ok: false, reason: 'timeout', detail: 'no reply to 2 echo requests' }),
      largestPassing: 1372,
      searched: [1000, 1300, 1372, 1400],
    });
    assert.equal(finding.status, 'fail');
    assert.equal(finding.subject, 'w1→w3');
    assert.deepEqual(
      [finding.metrics?.verdict, finding.metrics?.pathMtu, finding.metrics?.largestPassing, finding.metrics?.reason],
      ['black-hole', 1400, 1372, 'timeout'],
    );
    assert.match(finding.summary, /MTU black hole/);
    assert.equal(finding.evidence[1]?.output, 'DF sizes tried: 1000, 1300, 1372, 1400; largest that passed: 1372');
  });
  it('says when the sender was told the MTU', () => {
    const finding = mtuFinding({
      from: 'w1',
      to: 'w3',
      fromMtu: 1500,
      toMtu: 1500,
      fullSize: fullSize({
        ok: false,
        reason: 'frag-needed',
        detail: 'From 10.233.64.1 icmp_seq=1 Frag needed and DF set (mtu = 1400)',
        mtu: 1400,
      }),
      largestPassing: 1372,
      searched: [],
    });
    assert.deepEqual(
      [finding.status, finding.metrics?.verdict, finding.metrics?.reportedMtu],
      ['fail', 'fragmentation-needed', 1400],
    );
  });
  it('skips a pair whose plain ping failed', () => {
    assert.deepEqual(
      [mtuSkipped('w1', 'w3', 'ping fails').status, mtuSkipped('w1', 'w3', 'ping fails').subject],
      ['skip', 'w1→w3'],
    );
  });
});

describe('the endpoints of the test Service', () => {
  const wait = { service: 'netdiag-check-ab', namespace: 'ns', expected: 3, waitedMs: 20_400 };
  it('all ready: pass, with the time it took', () => {
    const finding = endpointsFinding({ ...wait, ready: 3, waitedMs: 1200 });
    assert.equal(finding.status, 'pass');
    assert.equal(finding.subject, 'cluster');
    assert.match(finding.summary, /all 3 echo pods as ready endpoints after 1\.2 s/);
  });
  it('some: a warning (the probes reached those)', () =>
    assert.equal(endpointsFinding({ ...wait, ready: 1 }).status, 'warn'));
  it('none: fails, says the Service probes did not run and points at the EndpointSlice controller', () => {
    const finding = endpointsFinding({ ...wait, ready: 0 });
    assert.equal(finding.status, 'fail');
    assert.match(finding.summary, /none of the 3 .* in 20\.4 s: Service probes .* not run/);
    assert.match(finding.hint ?? '', /EndpointSlice controller of kube-controller-manager/);
    assert.equal(
      finding.evidence[0]?.command,
      'kubectl get endpointslices -n ns -l kubernetes.io/service-name=netdiag-check-ab',
    );
  });
});
