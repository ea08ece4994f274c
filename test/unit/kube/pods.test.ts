import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '../../../src/kube/client.js';
import {
  AdmissionRejection,
  buildHelperPod,
  classifyAdmissionFailure,
  classifyPodProgress,
  podSecurityLevelFromMessage,
} from '../../../src/kube/pods.js';
import { MANAGED_BY_LABEL, SESSION_LABEL } from '../../../src/kube/session.js';

const labels = { [MANAGED_BY_LABEL]: 'kubectl-netdiag', [SESSION_LABEL]: 'abcd1234' };

describe('buildHelperPod', () => {
  it('pins to the node, labels, tolerates taints, bounds lifetime and requests little', () => {
    const pod = buildHelperPod(
      { namespace: 'ns', nodeName: 'worker1', image: 'img:1', purpose: 'node capture' },
      labels,
      'xyz12',
    );
    assert.equal(pod.metadata?.name, 'netdiag-node-capture-xyz12');
    assert.deepEqual(pod.metadata?.labels, labels);
    assert.equal(pod.spec?.nodeName, 'worker1');
    assert.equal(pod.spec?.activeDeadlineSeconds, 3600);
    assert.equal(pod.spec?.restartPolicy, 'Never');
    assert.deepEqual(pod.spec?.tolerations, [
      { operator: 'Exists', effect: 'NoSchedule' },
      { operator: 'Exists', effect: 'NoExecute' },
    ]);
    const container = pod.spec?.containers[0];
    assert.equal(container?.image, 'img:1');
    assert.deepEqual(container?.command, ['sleep', '3600']);
    assert.deepEqual(container?.resources?.requests, { cpu: '10m', memory: '16Mi' });
    assert.equal(container?.securityContext?.privileged, false);
    assert.equal(pod.spec?.hostPID, false);
  });
  it('supports the node-capture shape: hostPID, hostNetwork, privileged, capabilities, host paths', () => {
    const pod = buildHelperPod(
      {
        namespace: 'ns',
        nodeName: 'w',
        image: 'i',
        purpose: 'x',
        hostPID: true,
        hostNetwork: true,
        privileged: true,
        capabilities: ['NET_ADMIN', 'NET_RAW'],
        activeDeadlineSeconds: 60,
        hostPaths: [{ name: 'host', hostPath: '/', mountPath: '/host' }],
      },
      labels,
    );
    assert.equal(pod.spec?.hostPID, true);
    assert.equal(pod.spec?.hostNetwork, true);
    assert.equal(pod.spec?.activeDeadlineSeconds, 60);
    assert.deepEqual(pod.spec?.containers[0]?.securityContext, {
      privileged: true,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'] },
    });
    assert.deepEqual(pod.spec?.volumes, [{ name: 'host', hostPath: { path: '/' } }]);
    assert.deepEqual(pod.spec?.containers[0]?.volumeMounts, [{ name: 'host', mountPath: '/host', readOnly: true }]);
    assert.match(pod.metadata?.name ?? '', /^netdiag-x-[a-z0-9]{5}$/);
  });
});

const pod = (status: V1Pod['status']): V1Pod => ({
  metadata: { name: 'p' },
  spec: { containers: [{ name: 'tools', image: 'img:1' }] },
  status,
});

describe('classifyPodProgress', () => {
  it('is running when every container runs', () => {
    assert.deepEqual(
      classifyPodProgress(
        pod({
          phase: 'Running',
          containerStatuses: [
            { name: 'tools', image: 'img:1', imageID: '', ready: true, restartCount: 0, state: { running: {} } },
          ],
        }),
        'pod ns/p',
      ),
      {
        state: 'running',
      },
    );
  });
  it('keeps waiting through ContainerCreating', () => {
    const progress = classifyPodProgress(
      pod({
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'tools',
            image: 'img:1',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'ContainerCreating' } },
          },
        ],
      }),
      'pod ns/p',
    );
    assert.deepEqual(progress, { state: 'waiting', detail: 'ContainerCreating' });
  });
  it('names the image on ImagePullBackOff and ErrImagePull and suggests --image', () => {
    for (const reason of ['ImagePullBackOff', 'ErrImagePull']) {
      const progress = classifyPodProgress(
        pod({
          phase: 'Pending',
          containerStatuses: [
            {
              name: 'tools',
              image: 'bogus.invalid/x:1',
              imageID: '',
              ready: false,
              restartCount: 0,
              state: { waiting: { reason, message: 'pull failed' } },
            },
          ],
        }),
        'pod ns/p',
      );
      assert.equal(progress.state, 'failed');
      if (progress.state === 'failed') {
        assert.equal(progress.error.exitCode, 3);
        assert.match(progress.error.message, /bogus\.invalid\/x:1/);
        assert.match(progress.error.fix ?? '', /--image/);
      }
    }
  });
  it('reports Unschedulable with the scheduler message', () => {
    const progress = classifyPodProgress(
      pod({
        phase: 'Pending',
        conditions: [
          { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available' },
        ],
      }),
      'pod ns/p',
    );
    assert.ok(progress.state === 'failed' && /unschedulable: 0\/3 nodes are available/.test(progress.error.message));
  });
  it('reports pods the kubelet rejected or that ended', () => {
    const progress = classifyPodProgress(
      pod({ phase: 'Failed', reason: 'OutOfcpu', message: 'Node didn’t have enough resource: cpu' }),
      'pod ns/p',
    );
    assert.ok(progress.state === 'failed' && /OutOfcpu/.test(progress.error.message));
    assert.equal(classifyPodProgress(undefined, 'pod ns/p').state, 'failed');
  });
});

describe('admission failures', () => {
  const forbidden = (message: string) => ({ kind: 'forbidden' as const, httpStatus: 403, message });
  it('names the PodSecurity level and namespace', () => {
    const message =
      'pods "netdiag-x" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "tools" must set securityContext.allowPrivilegeEscalation=false)';
    assert.equal(podSecurityLevelFromMessage(message), 'restricted');
    const err = classifyAdmissionFailure(forbidden(message), 'restricted', 'helper pod netdiag-x', 'create pods');
    assert.equal(err?.exitCode, 3);
    assert.match(
      err?.message ?? '',
      /namespace "restricted" enforces PodSecurity "restricted".*allowPrivilegeEscalation/,
    );
    assert.ok(err instanceof AdmissionRejection && err.podSecurityLevel === 'restricted');
  });
  it('names the ValidatingAdmissionPolicy or webhook that refused, as an admission rejection', () => {
    const vap = classifyAdmissionFailure(
      forbidden(
        "pods \"web\" is forbidden: ValidatingAdmissionPolicy 'no-debug' with binding 'no-debug-binding' denied request: no ephemeral containers here",
      ),
      'shop',
      'an ephemeral container in pod web',
      'patch pods/ephemeralcontainers',
    );
    assert.ok(vap instanceof AdmissionRejection);
    assert.equal(
      vap.message,
      'ValidatingAdmissionPolicy no-debug rejects an ephemeral container in pod web in namespace "shop": no ephemeral containers here',
    );
    assert.equal(vap.podSecurityLevel, undefined);
    assert.match(vap.fix ?? '', /exception/);
    const webhook = classifyAdmissionFailure(
      forbidden(
        'admission webhook "validation.gatekeeper.sh" denied the request: [no-privileged] privileged pods are not allowed',
      ),
      'shop',
      'helper pod netdiag-x',
      'create pods',
    );
    assert.ok(webhook instanceof AdmissionRejection);
    assert.match(
      webhook.message,
      /^admission webhook validation\.gatekeeper\.sh rejects helper pod netdiag-x in namespace "shop": \[no-privileged\]/,
    );
  });
  it('recognises exceeded quota', () => {
    const err = classifyAdmissionFailure(
      forbidden('pods "x" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2'),
      'ns',
      'helper pod x',
      'create pods',
    );
    assert.match(err?.message ?? '', /resource quota in namespace "ns"/);
  });
  it('reports plain RBAC denial with the verb', () => {
    const err = classifyAdmissionFailure(
      forbidden('pods is forbidden: User "x" cannot create resource "pods"'),
      'ns',
      'helper pod x',
      'create pods',
    );
    assert.match(err?.message ?? '', /cannot create pods in namespace "ns"/);
  });
  it('reports a missing namespace as bad input', () => {
    const err = classifyAdmissionFailure(
      {
        kind: 'not-found',
        httpStatus: 404,
        message: 'namespaces "nope" not found',
        status: { details: { kind: 'namespaces', name: 'nope' } },
      },
      'nope',
      'x',
      'create pods',
    );
    assert.equal(err?.exitCode, 2);
  });
});
