import type { DiagnosticResult } from '../../../src/findings/model.js';

/** One result with a finding of every status and an unavailable node: every renderer is tested on it. */
export const FIXTURE: DiagnosticResult<{ readonly probes: number }> = {
  command: 'dns',
  data: { probes: 4 },
  findings: [
    {
      id: 'dns.lookup.cluster',
      subject: 'node/worker1.kube.local',
      status: 'pass',
      summary: 'kubernetes.default resolves in 2 ms',
      evidence: [
        { where: 'pod default/netdiag-pod-probe-abcde', command: 'dig kubernetes.default', output: '10.233.0.1' },
      ],
      metrics: { latencyMs: 2 },
    },
    {
      id: 'dns.hop.nodelocal',
      subject: 'node/worker2.kube.local',
      status: 'fail',
      summary: 'nodelocaldns on 169.254.25.10 does not answer',
      evidence: [
        {
          where: 'pod default/netdiag-pod-probe-fghij',
          command: 'dig @169.254.25.10 kubernetes.default',
          output: ';; connection timed out; no servers could be reached',
        },
      ],
      hint: 'restart the nodelocaldns pod on worker2.kube.local: kubectl -n kube-system delete pod -l k8s-app=nodelocaldns',
      metrics: { reason: 'timeout', attempts: 3 },
    },
    {
      id: 'dns.latency',
      subject: 'worker1.kube.local→worker3.kube.local',
      status: 'warn',
      summary: 'p95 lookup latency 180 ms <over> 100 ms & rising',
      evidence: [],
      hint: 'look at CoreDNS load: kubectl -n kube-system top pods -l k8s-app=kube-dns',
      metrics: { p95Ms: 180 },
    },
    {
      id: 'dns.lookup.external',
      subject: 'cluster',
      status: 'skip',
      summary: 'no external name given (--external)',
      evidence: [],
    },
  ],
  unavailable: [
    { node: 'worker3.kube.local', profile: 'pod-probe', reason: 'cannot pull image tools:9 (ErrImagePull)' },
  ],
};
