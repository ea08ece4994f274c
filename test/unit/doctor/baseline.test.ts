import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Finding } from '../../../src/findings/model.js';
import { finding } from './finding.js';
import { compareBaseline, parseBaseline, toBaseline } from '../../../src/doctor/baseline.js';
import { NetdiagError } from '../../../src/lib/errors.js';

const f = finding;
const W1 = 'node/worker1.kube.local';
const PAIR = 'worker1.kube.local→worker2.kube.local';
const good = [
  f('check.l3.pod-pod', PAIR, 'pass'),
  f('dns.lookup.cluster', W1, 'pass'),
  f('dns.latency', W1, 'pass', { medianMs: 2 }),
  f('bw.pair', PAIR, 'pass', { network: 'pod', bitsPerSecond: 9e9, retransmits: 3 }),
  f('bw.pair', PAIR, 'pass', { network: 'host', bitsPerSecond: 1e8 }),
  f('node.runtime', W1, 'pass', { version: 'containerd://1.6.20', cgroupV2: false }),
  f('node.interface.errors', W1, 'pass', { rxErrors: 0 }),
  f('dns.resolvconf', W1, 'fail'),
];
const saved = toBaseline(good, new Date('2026-12-02T12:00:00Z'));
const kinds = (findings: Finding[]) =>
  compareBaseline(saved, findings).map((c) => `${c.kind} ${c.id}${c.metric ? ` ${c.metric}` : ''}`);

describe('compareBaseline', () => {
  const table: { name: string; now: Finding[]; expected: string[] }[] = [
    { name: 'the same run: no change', now: good, expected: [] },
    {
      name: 'a failure that was a pass, and one never seen before',
      now: [
        ...good.filter((x) => x.id !== 'check.l3.pod-pod'),
        f('check.l3.pod-pod', PAIR, 'fail'),
        f('check.mtu', PAIR, 'fail'),
      ],
      expected: ['new-failure check.l3.pod-pod', 'new-failure check.mtu'],
    },
    {
      name: 'a failure that was already failing is not new; it recovered when it passes',
      now: [...good.filter((x) => x.id !== 'dns.resolvconf'), f('dns.resolvconf', W1, 'pass')],
      expected: ['recovered dns.resolvconf'],
    },
    {
      name: 'bandwidth down by more than the factor; by less is noise',
      now: [
        ...good.filter((x) => x.id !== 'bw.pair'),
        f('bw.pair', PAIR, 'pass', { network: 'pod', bitsPerSecond: 9e7, retransmits: 900 }),
        f('bw.pair', PAIR, 'pass', { network: 'host', bitsPerSecond: 1e8 }),
      ],
      expected: ['bandwidth-down bw.pair bitsPerSecond'],
    },
    {
      name: 'bandwidth down by less than the factor: no change',
      now: [
        ...good.filter((x) => x.id !== 'bw.pair'),
        f('bw.pair', PAIR, 'pass', { network: 'pod', bitsPerSecond: 6e9 }),
      ],
      expected: [],
    },
    {
      name: 'latency up by more than the factor and the minimum; a new warning',
      now: [...good.filter((x) => x.id !== 'dns.latency'), f('dns.latency', W1, 'warn', { medianMs: 1500 })],
      expected: ['new-warning dns.latency', 'latency-up dns.latency medianMs'],
    },
    {
      name: 'latency doubled but by less than the minimum: no change',
      now: [...good.filter((x) => x.id !== 'dns.latency'), f('dns.latency', W1, 'pass', { medianMs: 5 })],
      expected: [],
    },
    {
      name: 'a node fact changed; counters moving are not facts',
      now: [
        ...good.filter((x) => !x.id.startsWith('node.')),
        f('node.runtime', W1, 'pass', { version: 'containerd://1.7.0', cgroupV2: false }),
        f('node.interface.errors', W1, 'pass', { rxErrors: 40 }),
      ],
      expected: ['node-fact-changed node.runtime version'],
    },
  ];
  for (const { name, now, expected } of table) it(name, () => assert.deepEqual(kinds(now), expected));

  it('says what changed in numbers', () => {
    const [change] = compareBaseline(saved, [f('bw.pair', PAIR, 'pass', { network: 'pod', bitsPerSecond: 1e8 })]);
    assert.deepEqual(
      { before: change?.before, after: change?.after, summary: change?.summary },
      { before: 9e9, after: 1e8, summary: 'bitsPerSecond 9.00 Gbit/s → 100 Mbit/s (÷90.0)' },
    );
  });
});

describe('parseBaseline', () => {
  it('reads what toBaseline wrote', () =>
    assert.deepEqual(parseBaseline(JSON.stringify(saved), 'b.json'), JSON.parse(JSON.stringify(saved))));
  for (const [name, text, message] of [
    ['not JSON', '{', /b\.json is not a doctor baseline \(not JSON/],
    ['another JSON file', '{"command":"doctor"}', /no kind: netdiag-doctor-baseline/],
    ['a newer version', JSON.stringify({ ...saved, version: 2 }), /version 2 baseline; this doctor reads version 1/],
  ] as const)
    it(`refuses ${name} as a usage error with a fix`, () =>
      assert.throws(
        () => parseBaseline(text, 'b.json'),
        (error: unknown) =>
          error instanceof NetdiagError &&
          error.exitCode === 2 &&
          message.test(error.message) &&
          /--save-baseline b\.json/.test(error.fix ?? ''),
      ));
});
