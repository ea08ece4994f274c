import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Resolver } from '../../../src/dns/facts.js';
import {
  assembleNodeFacts,
  buildProbePlan,
  parseProbeOutput,
  probeScript,
  shellQuote,
  uncachedName,
  type PlanInput,
} from '../../../src/dns/probe.js';

const resolver = (role: Resolver['role'], address: string, label: string): Resolver => ({ role, address, label });
const input: PlanInput = {
  resolvers: [
    resolver('nodelocal', '169.254.25.10', 'node-local cache'),
    resolver('coredns-pod', '10.9.9.9', 'coredns-dead'),
    resolver('upstream', '172.30.78.1', 'upstream'),
  ],
  clusterName: 'kubernetes.default.svc.cluster.local',
  clusterExpected: ['10.233.0.1'],
  lookups: [
    { name: 'kubernetes.default', kind: 'cluster', expected: ['10.233.0.1'], isDefault: false },
    { name: "hang.it's.example", kind: 'external', expected: [], isDefault: true },
  ],
  externalNames: ['www.netdiag.test'],
  uncachedNames: ['netdiag-1f.netdiag.test'],
  queries: 3,
  repeatName: 'kubernetes.default',
  repeatExpected: ['10.233.0.1'],
  largeName: undefined,
};

describe('probe plan', () => {
  const plan = buildProbePlan(input);
  it('sends cluster names over UDP and TCP to every resolver but the upstream, external names once (the upstream: as often as cluster names)', () =>
    assert.deepEqual(
      plan.jobs.map((job) => `${job.resolver.role} ${job.protocol} ${job.scope} ×${job.count}`),
      [
        'nodelocal udp cluster ×3',
        'nodelocal tcp cluster ×3',
        'nodelocal udp external ×1',
        'coredns-pod udp cluster ×3',
        'coredns-pod tcp cluster ×3',
        'coredns-pod udp external ×1',
        'coredns-pod udp uncached ×1',
        'upstream udp external ×3',
      ],
    ));
  it('names no cache has seen live under the external name’s zone', () => {
    assert.equal(uncachedName('www.netdiag.test', 'netdiag-1f'), 'netdiag-1f.netdiag.test');
    assert.equal(uncachedName('kubernetes.io.', 'netdiag-1f'), 'netdiag-1f.io');
    assert.equal(uncachedName('localhost', 'netdiag-1f'), undefined);
  });
  it('numbers lookups and repeats the cluster name as many times as queries', () => {
    assert.deepEqual(
      plan.lookups.map((lookup) => lookup.id),
      ['l0', 'l1'],
    );
    assert.deepEqual(plan.repeated, { name: 'kubernetes.default', count: 3, expected: ['10.233.0.1'] });
  });
  it('quotes names for sh', () => assert.equal(shellQuote("it's"), `'it'\\''s'`));
});

describe('probe output sections', () => {
  it('splits sections, keeps bodies, collects missing tools, ignores stray lines', () => {
    const parsed = parseProbeOutput(
      [
        'noise',
        '@@netdiag missing getent',
        '@@netdiag resolv',
        'nameserver 169.254.25.10',
        '@@netdiag end',
        '@@netdiag dig q0.0 9',
        ';; no servers could be reached',
        '@@netdiag end',
      ].join('\n'),
    );
    assert.deepEqual(parsed.missing, ['getent']);
    assert.deepEqual(
      parsed.sections.map((section) => [section.kind, section.id, section.args, section.body]),
      [
        ['resolv', '', [], 'nameserver 169.254.25.10'],
        ['dig', 'q0.0', ['9'], ';; no servers could be reached'],
      ],
    );
  });
});

// The script itself, run by sh with stand-ins for dig and getent: the plumbing (parallel jobs, markers, the
// watchdog, a job stopping at its first unanswered query) is what is tested, not DNS.
describe('probe script under sh', () => {
  const bin = mkdtempSync(path.join(tmpdir(), 'netdiag-dns-probe-'));
  after(() => rmSync(bin, { recursive: true, force: true }));
  const tool = (name: string, body: string) => {
    writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(path.join(bin, name), 0o755);
  };
  tool(
    'dig',
    [
      'for a; do case "$a" in @10.9.9.9) echo ";; communications error to 10.9.9.9#53: timed out"; echo ";; no servers could be reached"; exit 9;; esac; done',
      'echo ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 7"',
      'echo ";; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1"',
      'echo "kubernetes.default.svc.cluster.local. 5 IN A 10.233.0.1"',
      'echo ";; Query time: 1 msec"',
    ].join('\n'),
  );
  // A lookup that never returns, as glibc does on a black-holed resolver with a long search list.
  tool('getent', 'case "$2" in hang*) exec sleep 60;; esac\necho "10.233.0.1      STREAM $2"');
  const plan = { ...buildProbePlan(input), lookupTimeoutSeconds: 1 };
  const started = Date.now();
  const output = execFileSync('sh', ['-c', probeScript(plan)], {
    env: { PATH: `${bin}:/usr/bin:/bin` },
    timeout: 30_000,
  }).toString();
  const elapsed = Date.now() - started;
  const facts = assembleNodeFacts(plan, { node: 'n1', pod: 'p', podIP: '10.233.64.9', namespace: 'default' }, output);

  it('the watchdog ends a hanging lookup (well before its 60 s)', () => {
    assert.ok(elapsed < 20_000, `took ${elapsed} ms`);
    const hung = facts.lookups.find((lookup) => lookup.kind === 'external');
    assert.notEqual(hung?.exitCode, 0);
    assert.deepEqual(hung?.result.addresses, []);
  });
  it('answers every query of a working resolver, over both protocols', () => {
    const local = facts.hops.find((hop) => hop.resolver.role === 'nodelocal');
    assert.deepEqual(
      local?.queries.map((query) => `${query.protocol} ${query.result.rcode} ${query.result.answers[0]?.data}`),
      [
        ...Array(3).fill('udp NOERROR 10.233.0.1'),
        ...Array(3).fill('tcp NOERROR 10.233.0.1'),
        'udp NOERROR 10.233.0.1',
      ],
    );
  });
  it('stops a job at its first unanswered query', () => {
    const dead = facts.hops.find((hop) => hop.resolver.role === 'coredns-pod');
    assert.deepEqual(
      dead?.queries.map((query) => `${query.protocol} ${query.scope} ${query.result.failure}`),
      ['udp cluster timeout', 'tcp cluster timeout', 'udp external timeout', 'udp uncached timeout'],
    );
  });
  it('repeats the cluster lookup after it succeeded once', () => {
    assert.equal(facts.repeated.length, 3);
    assert.ok(facts.repeated.every((lookup) => lookup.exitCode === 0 && lookup.result.addresses[0] === '10.233.0.1'));
  });
  it('reads resolv.conf and reports no missing tool', () => {
    assert.ok(facts.resolvConfText !== undefined);
    assert.deepEqual(facts.missingTools, []);
  });
});
