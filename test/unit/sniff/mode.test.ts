import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NetdiagError } from '../../../src/lib/errors.js';
import { AdmissionRejection } from '../../../src/kube/pods.js';
import { learnFromRejection } from '../../../src/sniff/engine.js';
import { selectMode, type ModeFacts } from '../../../src/sniff/mode.js';

const admin: ModeFacts = {
  nodeTarget: false,
  allowed: {
    getPods: true,
    patchEphemeralContainers: true,
    getExec: true,
    createExec: true,
    createHelperPods: true,
    deleteHelperPods: true,
  },
  ephemeralContainersSupported: true,
  targetPodSecurity: 'privileged',
  helperPodSecurity: 'privileged',
  helperNamespace: 'default',
  targetCannotCapture: undefined,
};
const facts = (
  change: Partial<Omit<ModeFacts, 'allowed'>> & { allowed?: Partial<ModeFacts['allowed']> },
): ModeFacts => ({
  ...admin,
  ...change,
  allowed: { ...admin.allowed, ...change.allowed },
});

const fails = (fn: () => unknown, code: number, pattern: RegExp, fix?: RegExp) =>
  assert.throws(
    fn,
    (err: unknown) =>
      err instanceof NetdiagError &&
      err.exitCode === code &&
      pattern.test(err.message) &&
      (!fix || fix.test(err.fix ?? '')),
  );

describe('selectMode', () => {
  it('auto picks ephemeral with NET_RAW/NET_ADMIN in a privileged namespace', () => {
    const choice = selectMode('auto', admin);
    assert.equal(choice.mode, 'ephemeral');
    assert.equal(choice.privileges, 'net-raw-net-admin');
    assert.match(choice.reason, /NET_RAW and NET_ADMIN added/);
  });

  it('auto uses the runtime default capabilities under baseline', () => {
    const choice = selectMode('auto', facts({ targetPodSecurity: 'baseline' }));
    assert.equal(choice.mode, 'ephemeral');
    assert.equal(choice.privileges, 'runtime-default');
    assert.match(choice.reason, /baseline/);
  });

  it('auto falls back to node mode under restricted and says why', () => {
    const choice = selectMode(
      'auto',
      facts({ targetPodSecurity: 'restricted', targetCannotCapture: 'runs as non-root' }),
    );
    assert.equal(choice.mode, 'node');
    assert.match(choice.reason, /skipped ephemeral \(PodSecurity "restricted"/);
  });

  it('auto falls back to upload without ephemeral rights or helper pods', () => {
    const choice = selectMode('auto', facts({ allowed: { patchEphemeralContainers: false, createHelperPods: false } }));
    assert.equal(choice.mode, 'upload');
    assert.match(choice.reason, /pods\/ephemeralcontainers/);
    assert.match(choice.reason, /create pods in namespace default/);
  });

  it('exec needs get as well as create on pods/exec (WebSocket exec is an upgraded GET)', () => {
    // The Role many clusters have from the SPDY days: create only. kubectl falls back to SPDY; client-node cannot.
    fails(
      () => selectMode('auto', facts({ allowed: { getExec: false } })),
      3,
      /ephemeral \(RBAC: you may not get pods\/exec \(exec over WebSocket needs get as well as create\)\)/,
      /get\+create on pods\/exec/,
    );
    fails(() => selectMode('upload', facts({ allowed: { createExec: false } })), 3, /may not create pods\/exec/);
  });

  it('node targets always use node mode; asking for another is a usage error', () => {
    assert.equal(selectMode('auto', facts({ nodeTarget: true })).mode, 'node');
    fails(() => selectMode('ephemeral', facts({ nodeTarget: true })), 2, /cannot capture a node/);
  });

  it('an explicit mode that will not work names the blocker and a mode that would', () => {
    fails(
      () => selectMode('ephemeral', facts({ allowed: { patchEphemeralContainers: false } })),
      3,
      /patch pods\/ephemeralcontainers/,
      /--mode node/,
    );
    fails(
      () => selectMode('node', facts({ helperPodSecurity: 'baseline' })),
      3,
      /PodSecurity "baseline" on namespace default/,
      /--mode ephemeral/,
    );
  });

  it('fails with every reason when nothing works (the restricted kubeconfig)', () => {
    fails(
      () =>
        selectMode(
          'auto',
          facts({
            allowed: {
              patchEphemeralContainers: false,
              getExec: false,
              createExec: false,
              createHelperPods: false,
              deleteHelperPods: false,
            },
          }),
        ),
      3,
      /no capture mode will work: ephemeral \(RBAC.*node \(RBAC.*upload \(RBAC: you may not get or create pods\/exec\)/,
    );
  });
});

describe('auto after admission refused a mode at setup (learnFromRejection)', () => {
  const podSecurity = (level: string) =>
    new AdmissionRejection(`namespace "shop" enforces PodSecurity "${level}", which rejects …`, 'relabel', level);
  const policy = new AdmissionRejection(
    'ValidatingAdmissionPolicy no-debug rejects an ephemeral container in pod web in namespace "shop": no',
    'ask',
  );

  it('a PodSecurity level preflight could not read: ephemeral again, with the runtime default capabilities', () => {
    const learned = learnFromRejection(admin, 'ephemeral', podSecurity('baseline'));
    assert.equal(learned.targetPodSecurity, 'baseline');
    const choice = selectMode('auto', learned);
    assert.equal(choice.mode, 'ephemeral');
    assert.equal(choice.privileges, 'runtime-default');
  });

  it('restricted: ephemeral is out, node mode next', () => {
    assert.equal(selectMode('auto', learnFromRejection(admin, 'ephemeral', podSecurity('restricted'))).mode, 'node');
  });

  it('a policy rules the mode out for the run and the reason says which policy', () => {
    const choice = selectMode('auto', learnFromRejection(admin, 'ephemeral', policy));
    assert.equal(choice.mode, 'node');
    assert.match(choice.reason, /skipped ephemeral \(admission refused it: ValidatingAdmissionPolicy no-debug/);
  });

  it('a level no stricter than the one assumed is a refusal, so the loop always moves on', () => {
    const known = facts({ targetPodSecurity: 'baseline' });
    const learned = learnFromRejection(known, 'ephemeral', podSecurity('baseline'));
    assert.equal(selectMode('auto', learned).mode, 'node');
  });

  it('when every mode was refused, nothing will work and each refusal is named', () => {
    let learned = learnFromRejection(admin, 'ephemeral', policy);
    learned = learnFromRejection(learned, 'node', podSecurity('baseline'));
    assert.equal(selectMode('auto', learned).mode, 'upload');
    learned = learnFromRejection(learned, 'upload', policy);
    fails(
      () => selectMode('auto', learned),
      3,
      /no capture mode will work: ephemeral \(admission refused it.*upload \(admission refused it/,
    );
  });
});
