import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '../../../src/kube/client.js';
import {
  classifyEphemeralPatchFailure,
  classifyEphemeralProgress,
  ephemeralCandidates,
  ephemeralContainerPatch,
} from '../../../src/kube/ephemeral.js';

const options = {
  namespace: 'ns',
  pod: 'web',
  image: 'tools:1',
  command: ['sleep', '600'],
  targetContainer: 'app',
  capabilities: ['NET_RAW'],
};

describe('ephemeral containers', () => {
  it('builds a strategic-merge patch appending one container', () => {
    assert.deepEqual(ephemeralContainerPatch(options, 'netdiag-abcde'), {
      spec: {
        ephemeralContainers: [
          {
            name: 'netdiag-abcde',
            image: 'tools:1',
            imagePullPolicy: 'IfNotPresent',
            command: ['sleep', '600'],
            stdin: false,
            tty: false,
            terminationMessagePolicy: 'File',
            targetContainerName: 'app',
            securityContext: { privileged: false, capabilities: { add: ['NET_RAW'] } },
          },
        ],
      },
    });
    const plain = ephemeralContainerPatch({ ...options, capabilities: undefined, targetContainer: undefined }, 'n');
    assert.equal(plain.spec.ephemeralContainers[0]?.securityContext, undefined);
  });
  it('lists candidates with their running state for reuse predicates', () => {
    const pod: V1Pod = {
      spec: {
        containers: [],
        ephemeralContainers: [
          { name: 'netdiag-a', image: 'tools:1' },
          { name: 'netdiag-b', image: 'tools:1', targetContainerName: 'app' },
        ],
      },
      status: {
        ephemeralContainerStatuses: [
          {
            name: 'netdiag-a',
            image: 'tools:1',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 0 } },
          },
          { name: 'netdiag-b', image: 'tools:1', imageID: '', ready: false, restartCount: 0, state: { running: {} } },
        ],
      },
    };
    assert.deepEqual(ephemeralCandidates(pod), [
      { name: 'netdiag-a', image: 'tools:1', targetContainerName: undefined, running: false },
      { name: 'netdiag-b', image: 'tools:1', targetContainerName: 'app', running: true },
    ]);
    assert.deepEqual(classifyEphemeralProgress(pod, 'netdiag-b', 'pod ns/web'), { state: 'running' });
    assert.equal(classifyEphemeralProgress(pod, 'netdiag-a', 'pod ns/web').state, 'failed');
    assert.deepEqual(classifyEphemeralProgress(pod, 'netdiag-c', 'pod ns/web'), {
      state: 'waiting',
      detail: 'waiting for the kubelet',
    });
  });
  it("names the image on a pull failure with the caller's fix (sniff: --tcpdump-image or upload mode)", () => {
    const pod: V1Pod = {
      status: {
        ephemeralContainerStatuses: [
          {
            name: 'netdiag-x',
            image: 'registry.invalid/tcpdump:1',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'ErrImagePull', message: 'not found' } },
          },
        ],
      },
    };
    const progress = classifyEphemeralProgress(pod, 'netdiag-x', 'pod ns/web', 'use --mode upload');
    assert.equal(progress.state, 'failed');
    assert.ok(progress.state === 'failed' && progress.error.message.includes('registry.invalid/tcpdump:1'));
    assert.equal(progress.state === 'failed' && progress.error.fix, 'use --mode upload');
    const generic = classifyEphemeralProgress(pod, 'netdiag-x', 'pod ns/web');
    assert.match((generic.state === 'failed' && generic.error.fix) || '', /--image/);
  });
  it('tells a disabled feature (bare 404) from a missing pod', () => {
    const disabled = classifyEphemeralPatchFailure(
      {
        kind: 'not-found',
        httpStatus: 404,
        message: 'the server could not find the requested resource',
        status: { details: {} },
      },
      options,
    );
    assert.equal(disabled?.exitCode, 3);
    assert.match(disabled?.message ?? '', /does not serve pods\/ephemeralcontainers/);
    const gone = classifyEphemeralPatchFailure(
      {
        kind: 'not-found',
        httpStatus: 404,
        message: 'pods "web" not found',
        status: { details: { name: 'web', kind: 'pods' } },
      },
      options,
    );
    assert.equal(gone?.exitCode, 2);
  });
  it('reports PodSecurity rejections of the patch with the level', () => {
    const err = classifyEphemeralPatchFailure(
      {
        kind: 'forbidden',
        httpStatus: 403,
        message:
          'pods "web" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities (container "netdiag-x" must not include "NET_ADMIN")',
      },
      options,
    );
    assert.match(err?.message ?? '', /enforces PodSecurity "baseline"/);
  });
});
