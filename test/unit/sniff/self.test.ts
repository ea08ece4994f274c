import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  apiLegExpression,
  describeExclusion,
  excludeApiLeg,
  runtimeStreamArgv,
  withExclusion,
  type SelfStream,
} from '../../../src/sniff/self.js';
import { tcpdumpArgv, tcpdumpErrorLines, type TcpdumpSpec } from '../../../src/sniff/tcpdump.js';
import { FIXTURES } from '../pcap/frames.js';

const self: SelfStream = { kubeletPorts: new Map([['worker2.kube.local', 10250]]), apiServers: ['172.30.77.1'] };
const spec: TcpdumpSpec = { interface: 'any', filter: 'tcp', snaplen: undefined, count: undefined, immediate: false };

describe('apiLegExpression', () => {
  const cases: [string, number | undefined, string[], string | undefined][] = [
    [
      'one API server',
      10250,
      ['172.30.77.1'],
      'tcp and (((src host 172.30.77.1) and dst port 10250) or ((dst host 172.30.77.1) and src port 10250))',
    ],
    [
      'several API servers, IPv6 among them',
      10250,
      ['10.0.0.1', 'fd00::1'],
      'tcp and (((src host 10.0.0.1 or src host fd00::1) and dst port 10250) or ((dst host 10.0.0.1 or dst host fd00::1) and src port 10250))',
    ],
    ['no kubelet port known', undefined, ['10.0.0.1'], undefined],
    ['no API server known', 10250, [], undefined],
  ];
  for (const [name, port, servers, expected] of cases) {
    it(name, () => assert.equal(apiLegExpression(port, servers), expected));
  }
});

describe('withExclusion', () => {
  const cases: [string | undefined, string | undefined, string | undefined][] = [
    ['tcp', 'port 1', '(tcp) and not (port 1)'],
    [undefined, 'port 1', 'not (port 1)'],
    ['  ', 'port 1', 'not (port 1)'],
    ['tcp or udp', undefined, 'tcp or udp'],
    [undefined, undefined, undefined],
  ];
  for (const [filter, exclusion, expected] of cases) {
    it(`${JSON.stringify(filter)} + ${JSON.stringify(exclusion)}`, () =>
      assert.equal(withExclusion(filter, exclusion), expected));
  }
});

describe('excludeApiLeg', () => {
  it("adds the node's kubelet port and the API servers to the user's filter, the rest of the spec unchanged", () => {
    const out = excludeApiLeg(spec, self, 'worker2.kube.local');
    assert.equal(out.filter, `(tcp) and not (${apiLegExpression(10250, ['172.30.77.1'])})`);
    assert.deepEqual({ ...out, filter: spec.filter }, spec);
  });

  it('leaves the filter alone on a node whose kubelet port is unknown', () => {
    assert.equal(excludeApiLeg(spec, self, 'worker9').filter, 'tcp');
  });
});

describe('describeExclusion', () => {
  it('names both legs and the flag that keeps them', () => {
    assert.equal(
      describeExclusion(self, 'worker2.kube.local', true),
      "node/worker2.kube.local: leaving out the capture's own stream (kubelet :10250 ↔ API server 172.30.77.1; runtime streaming server ↔ kubelet on 127.0.0.1 (port found on the node)); --include-self keeps it",
    );
  });

  it('says when nothing could be identified', () => {
    assert.match(describeExclusion(self, 'worker9', false), /could not be identified; it is captured/);
  });
});

describe('the runtime streaming script (run here with ss and tcpdump stand-ins)', () => {
  const bin = mkdtempSync(path.join(tmpdir(), 'netdiag-self-'));
  after(() => rmSync(bin, { recursive: true, force: true }));
  const ssOutput = readFileSync(path.join(FIXTURES, '..', 'sniff', 'ss-hltnp-worker.txt'), 'utf8');

  /** Runs the script with `ss` printing `listening` and a tcpdump that prints its argv, one per line. */
  function run(listening: string, filter: string | undefined) {
    writeFileSync(path.join(bin, 'ss'), `#!/bin/sh\ncat <<'EOF'\n${listening}EOF\n`);
    writeFileSync(path.join(bin, 'tcpdump'), '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n');
    chmodSync(path.join(bin, 'ss'), 0o755);
    chmodSync(path.join(bin, 'tcpdump'), 0o755);
    const argv = runtimeStreamArgv(filter, tcpdumpArgv('tcpdump', { ...spec, filter: undefined }));
    const result = spawnSync(argv[0]!, argv.slice(1), {
      env: { PATH: `${bin}:/usr/bin:/bin` },
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
    return { argv: result.stdout.trimEnd().split('\n'), stderr: result.stderr };
  }

  it("finds containerd's loopback port in real ss output and appends ONE filter argument", () => {
    const { argv, stderr } = run(ssOutput, "tcp and not host 1.2.3.4'; rm -rf /");
    const expectedPort = /127\.0\.0\.1:(\d+)\s.*"containerd"/.exec(ssOutput)![1]!;
    assert.deepEqual(argv.slice(0, -1), ['-U', '-n', '-w', '-', '-i', 'any']);
    assert.equal(
      argv.at(-1),
      `(tcp and not host 1.2.3.4'; rm -rf /) and not (tcp and src host 127.0.0.1 and dst host 127.0.0.1 and (port ${expectedPort}))`,
    );
    assert.equal(stderr, `netdiag-self-exclusion 127.0.0.1 ${expectedPort}\n`);
    assert.deepEqual(tcpdumpErrorLines(stderr), [], 'the marker is not an error line');
  });

  it('without a user filter the exclusion is the whole filter', () => {
    const { argv } = run(ssOutput, undefined);
    assert.match(argv.at(-1)!, /^not \(tcp and src host 127\.0\.0\.1 and dst host 127\.0\.0\.1 and \(port \d+\)\)$/);
  });

  it('no runtime listening on loopback: the filter as given, and a note', () => {
    const others = ssOutput
      .split('\n')
      .filter((l) => !/containerd|crio|dockerd/.test(l))
      .join('\n');
    const { argv, stderr } = run(`${others}\n`, 'udp');
    assert.equal(argv.at(-1), 'udp');
    assert.equal(stderr, 'netdiag-self-exclusion none\n');
    const bare = run('', undefined);
    assert.deepEqual(bare.argv, ['-U', '-n', '-w', '-', '-i', 'any'], 'no empty filter argument');
  });
});
