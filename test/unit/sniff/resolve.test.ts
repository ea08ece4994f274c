import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NetdiagError } from '../../../src/lib/errors.js';
import type { V1Pod } from '../../../src/kube/client.js';
import { cannotCaptureItself } from '../../../src/sniff/engine.js';
import { parseUploadProbe, uploadProblems } from '../../../src/sniff/modes.js';
import { nameRecords } from '../../../src/sniff/names.js';
import { labelSelectorString, podTarget, targetLabel } from '../../../src/sniff/resolve.js';

const pod = (
  change: {
    containers?: string[];
    phase?: string;
    running?: boolean;
    securityContext?: object;
    podSecurityContext?: object;
  } = {},
): V1Pod => ({
  metadata: { name: 'web-1', namespace: 'shop', uid: 'u1' },
  spec: {
    nodeName: 'worker3.kube.local',
    containers: (change.containers ?? ['app', 'sidecar']).map((name) => ({
      name,
      securityContext: change.securityContext,
    })),
    securityContext: change.podSecurityContext,
  },
  status: {
    phase: change.phase ?? 'Running',
    podIP: '10.244.3.7',
    podIPs: [{ ip: '10.244.3.7' }],
    containerStatuses: (change.containers ?? ['app', 'sidecar']).map((name) => ({
      name,
      image: 'x',
      imageID: 'x',
      ready: true,
      restartCount: 0,
      containerID: `containerd://${name}0123abcd`,
      state: change.running === false ? { waiting: { reason: 'CrashLoopBackOff' } } : { running: {} },
    })),
  },
});

const usage = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (err: unknown) => err instanceof NetdiagError && err.exitCode === 2 && pattern.test(err.message));

describe('podTarget', () => {
  it('defaults to the first container and strips the runtime scheme from its ID', () => {
    const target = podTarget(pod(), undefined);
    assert.equal(target.container, 'app');
    assert.equal(target.containerId, 'app0123abcd');
    assert.deepEqual(target.podIPs, ['10.244.3.7']);
    assert.equal(target.nodeName, 'worker3.kube.local');
    assert.equal(targetLabel(target), 'shop/web-1/app');
  });

  it('rejects an unknown container, listing the real ones (exit 2)', () => {
    usage(() => podTarget(pod(), 'db'), /container "db" not found in pod shop\/web-1/);
  });

  it('rejects pods and containers that do not run', () => {
    usage(() => podTarget(pod({ phase: 'Pending' }), undefined), /is Pending/);
    usage(() => podTarget(pod({ running: false }), 'sidecar'), /CrashLoopBackOff/);
  });
});

describe('labelSelectorString', () => {
  it('renders matchLabels and matchExpressions like kubectl', () => {
    assert.equal(
      labelSelectorString({
        matchLabels: { app: 'web', tier: 'front' },
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['prod', 'stage'] },
          { key: 'canary', operator: 'DoesNotExist' },
        ],
      }),
      'app=web,tier=front,env in (prod,stage),!canary',
    );
  });
});

describe('cannotCaptureItself (upload mode from the spec)', () => {
  it('accepts a default root container', () => {
    assert.equal(cannotCaptureItself(podTarget(pod(), undefined)), undefined);
  });
  it('rejects non-root without NET_RAW and dropped capabilities', () => {
    assert.match(
      cannotCaptureItself(podTarget(pod({ podSecurityContext: { runAsNonRoot: true } }), undefined)) ?? '',
      /non-root/,
    );
    assert.match(
      cannotCaptureItself(podTarget(pod({ securityContext: { capabilities: { drop: ['ALL'] } } }), undefined)) ?? '',
      /drops NET_RAW/,
    );
    assert.equal(
      cannotCaptureItself(
        podTarget(pod({ securityContext: { runAsUser: 1000, capabilities: { add: ['NET_RAW'] } } }), undefined),
      ),
      undefined,
    );
  });
});

describe('upload probe', () => {
  it('parses a capable container', () => {
    const check = parseUploadProbe('machine=x86_64\ntar=yes\ndir=/tmp\nuid=0\ncapeff=00000000a80425fb\ntools=yes\n');
    assert.equal(check.arch, 'amd64');
    assert.ok(check.netRaw);
    assert.equal(check.cached, false);
    assert.deepEqual(uploadProblems(check), []);
  });
  it('sees a tcpdump uploaded earlier that may be reused', () => {
    const check = parseUploadProbe(
      'machine=aarch64\ntar=yes\ndir=/tmp\nuid=0\ncapeff=00000000a80425fb\ncached=yes\ntools=yes\n',
    );
    assert.equal(check.arch, 'arm64');
    assert.equal(check.cached, true);
  });
  it('names every missing piece', () => {
    const check = parseUploadProbe('machine=s390x\ntar=no\nuid=1000\ncapeff=0000000000000000\ntools=no\n');
    const problems = uploadProblems(check).join('; ');
    assert.match(problems, /s390x/);
    assert.match(problems, /no tar/);
    assert.match(problems, /no writable directory/);
    assert.match(problems, /uid 1000, no CAP_NET_RAW/);
    assert.match(problems, /date, sleep, cat, kill or mv/);
  });
});

describe('nameRecords', () => {
  it('maps pod IPs, Service cluster IPs and node addresses; skips host-network pods', () => {
    const records = nameRecords(
      [
        pod(),
        {
          ...pod(),
          metadata: { name: 'agent', namespace: 'kube-system' },
          spec: { ...pod().spec!, hostNetwork: true },
        },
      ],
      [
        {
          metadata: { name: 'kube-dns', namespace: 'kube-system' },
          spec: { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'] },
        },
        { metadata: { name: 'headless', namespace: 'shop' }, spec: { clusterIP: 'None' } },
      ],
      [
        {
          metadata: { name: 'worker3.kube.local' },
          status: {
            addresses: [
              { type: 'InternalIP', address: '10.0.0.13' },
              { type: 'Hostname', address: 'worker3' },
            ],
          },
        },
      ],
    );
    assert.deepEqual(records, [
      { ip: '10.244.3.7', name: 'web-1.shop' },
      { ip: '10.96.0.10', name: 'kube-dns.kube-system' },
      { ip: '10.0.0.13', name: 'worker3.kube.local' },
    ]);
  });
});

describe('parseProcNetDev', () => {
  it('lists the interface names', async () => {
    const { parseProcNetDev } = await import('../../../src/sniff/interfaces.js');
    const text =
      'Inter-|   Receive                                                |  Transmit\n' +
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n' +
      '    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n' +
      '  eth0:  123456     789    0    0    0     0          0         0    98765     432    0    0    0     0       0          0\n';
    assert.deepEqual(parseProcNetDev(text), ['lo', 'eth0']);
  });
});
