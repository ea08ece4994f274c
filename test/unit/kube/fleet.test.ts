import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildFleetPod,
  extendProfile,
  fleetRequirements,
  PROFILE_LABEL,
  PROFILES,
  profileSecurityNeeds,
} from '../../../src/kube/fleet.js';
import { podSecurityViolations } from '../../../src/kube/preflight.js';

const SETTINGS = { namespace: 'diag', image: 'tools:1', activeDeadlineSeconds: 600 };
const SESSION = { 'app.kubernetes.io/managed-by': 'kubectl-netdiag', 'kubectl-netdiag/session': 's1' };

describe('fleet profiles', () => {
  it('pod-probe: pod network, unprivileged, NET_RAW only, pinned by nodeName, tolerating every taint', () => {
    const pod = buildFleetPod(PROFILES['pod-probe'], 'worker1.kube.local', SETTINGS, SESSION, 'abcde');
    assert.equal(pod.metadata?.name, 'netdiag-pod-probe-abcde');
    assert.deepEqual(pod.metadata?.labels, { ...SESSION, [PROFILE_LABEL]: 'pod-probe' });
    assert.equal(pod.spec?.nodeName, 'worker1.kube.local');
    assert.equal(pod.spec?.nodeSelector, undefined, 'never hostname labels');
    assert.equal(pod.spec?.hostNetwork, false);
    assert.equal(pod.spec?.hostPID, false);
    assert.equal(pod.spec?.activeDeadlineSeconds, 600);
    assert.deepEqual(pod.spec?.tolerations, [
      { operator: 'Exists', effect: 'NoSchedule' },
      { operator: 'Exists', effect: 'NoExecute' },
    ]);
    const container = pod.spec?.containers[0];
    assert.equal(container?.image, 'tools:1');
    assert.deepEqual(container?.command, ['sleep', '600']);
    assert.deepEqual(container?.securityContext, { privileged: false, capabilities: { add: ['NET_RAW'] } });
    assert.deepEqual(container?.resources, { requests: { cpu: '10m', memory: '16Mi' } });
  });
  it('host-probe: the node network namespace, still unprivileged', () => {
    const pod = buildFleetPod(PROFILES['host-probe'], 'n', SETTINGS, SESSION);
    assert.equal(pod.spec?.hostNetwork, true);
    assert.equal(pod.spec?.containers[0]?.securityContext?.privileged, false);
  });
  it('node-inspector: privileged, hostPID + hostNetwork, the host root read-only at /host', () => {
    const pod = buildFleetPod(PROFILES['node-inspector'], 'n', SETTINGS, SESSION);
    assert.equal(pod.spec?.hostNetwork, true);
    assert.equal(pod.spec?.hostPID, true);
    assert.equal(pod.spec?.containers[0]?.securityContext?.privileged, true);
    assert.deepEqual(pod.spec?.volumes, [{ name: 'host-root', hostPath: { path: '/' } }]);
    assert.deepEqual(pod.spec?.containers[0]?.volumeMounts, [
      { name: 'host-root', mountPath: '/host', readOnly: true },
    ]);
  });
  it('a command extends a profile with its process, labels, resources, ports and DNS policy', () => {
    const iperf = extendProfile('pod-probe', {
      name: 'iperf3-server',
      command: ['iperf3', '-s'],
      labels: { role: 'server' },
      resources: { requests: { cpu: '500m', memory: '64Mi' }, limits: { memory: '256Mi' } },
      ports: [{ name: 'iperf3', containerPort: 5201, protocol: 'TCP' }],
      dnsPolicy: 'ClusterFirstWithHostNet',
    });
    const pod = buildFleetPod(iperf, 'n', SETTINGS, SESSION, 'xxxxx');
    assert.equal(pod.metadata?.name, 'netdiag-iperf3-server-xxxxx');
    assert.deepEqual(pod.metadata?.labels, { role: 'server', ...SESSION, [PROFILE_LABEL]: 'iperf3-server' });
    assert.equal(pod.spec?.dnsPolicy, 'ClusterFirstWithHostNet');
    const container = pod.spec?.containers[0];
    assert.deepEqual(container?.command, ['iperf3', '-s']);
    assert.deepEqual(container?.ports, [{ name: 'iperf3', containerPort: 5201, protocol: 'TCP' }]);
    assert.deepEqual(container?.resources, { requests: { cpu: '500m', memory: '64Mi' }, limits: { memory: '256Mi' } });
    assert.deepEqual(container?.securityContext, { privileged: false, capabilities: { add: ['NET_RAW'] } });
  });
});

describe('what preflight reads from a profile', () => {
  const cases: { profile: keyof typeof PROFILES; level: 'privileged' | 'baseline' | 'restricted'; want: string[] }[] = [
    { profile: 'pod-probe', level: 'privileged', want: [] },
    { profile: 'pod-probe', level: 'baseline', want: ['capabilities NET_RAW'] },
    { profile: 'host-probe', level: 'baseline', want: ['hostNetwork', 'capabilities NET_RAW'] },
    {
      profile: 'node-inspector',
      level: 'baseline',
      want: ['privileged', 'hostNetwork', 'hostPID', 'hostPath volumes'],
    },
    {
      profile: 'pod-probe',
      level: 'restricted',
      want: ['capabilities NET_RAW', 'running as root'],
    },
  ];
  for (const { profile, level, want } of cases) {
    it(`${profile} under PodSecurity ${level}: ${want.join(', ') || 'allowed'}`, () => {
      assert.deepEqual(podSecurityViolations(level, profileSecurityNeeds(PROFILES[profile])), want);
    });
  }
  it('needs to create, follow and delete its pods and exec into them', () => {
    assert.deepEqual(
      fleetRequirements('diag').map((r) => `${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ''}`),
      ['create pods', 'get pods', 'list pods', 'watch pods', 'delete pods', 'get pods/exec', 'create pods/exec'],
    );
  });
});
