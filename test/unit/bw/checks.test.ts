import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  bwFindings,
  flagPairs,
  likeliestCause,
  median,
  referenceRate,
  resultKey,
  type PairEvidence,
} from '../../../src/bw/checks.js';
import type { BwData, NetworkRatio, PairResult } from '../../../src/bw/model.js';
import { bwData, pairResult, W1, W2, W3 } from './data.js';
import { diffCounters, parseCounters, parseQdiscJson, type FirewallRule } from '../../../src/node/counters.js';

const G = 1e9;
const M = 1e6;
const result = pairResult;
const data = (results: PairResult[], ratios: NetworkRatio[] = []): BwData => bwData(results, {}, ratios);

/** worker2 capped at 100 Mbit/s (lab fault rate): 4 of the 6 pairs are slow. */
const rateFault = [
  result(W1, W2, 96 * M),
  result(W2, W1, 97 * M),
  result(W1, W3, 5.1 * G),
  result(W3, W1, 4.8 * G),
  result(W2, W3, 95 * M),
  result(W3, W2, 98 * M),
];

const counters = (name: string) =>
  parseCounters(readFileSync(new URL(`../../../../test/fixtures/node/${name}`, import.meta.url), 'utf8'));
/** Real counters (test/fixtures/node): a statistic DROP rule, a REJECT, an nft drop and a veth tx_dropped moved. */
const realDiff = diffCounters(counters('counters-before.txt'), counters('counters-after.txt'));
const quietDiff = diffCounters(counters('counters-after.txt'), counters('counters-after.txt'));
const nicOnlyDiff = { nicErrors: realDiff.nicErrors, droppingRules: [], shapers: [] };
const qdiscs = (name: string) =>
  parseQdiscJson(readFileSync(new URL(`../../../../test/fixtures/node/${name}`, import.meta.url), 'utf8'));
/** Real qdiscs of worker2 under the lab's `fault rate worker2 100`, around a 2 s test: eth0's tbf passed it. */
const shapedDiff = diffCounters(
  { ...counters('counters-after.txt'), qdiscs: qdiscs('qdisc-worker2-before.json') },
  { ...counters('counters-after.txt'), qdiscs: qdiscs('qdisc-worker2-after.json') },
);

describe('referenceRate: what the cluster’s links reach', () => {
  it('is the median of each node’s fastest link, so one slow node does not drag it down', () => {
    assert.equal(referenceRate(rateFault, 'pod'), 5.1 * G);
    // The plain median of the 6 pairs is a slow pair: it would flag nothing.
    assert.equal(median(rateFault.map((entry) => entry.bitsPerSecond ?? 0)), (97 * M + 98 * M) / 2);
  });
  it('ignores failed tests and other networks', () => {
    assert.equal(referenceRate([result(W1, W2, null, { error: 'x' })], 'pod'), undefined);
    assert.equal(referenceRate(rateFault, 'host'), undefined);
  });
});

describe('flagPairs', () => {
  it('flags every pair of the slow node as an outlier, with the factor, and nothing else', () => {
    const flags = flagPairs(data(rateFault));
    assert.deepEqual(
      flags.map((flag) => [flag.id, `${flag.result.from}→${flag.result.to}`]),
      [
        ['bw.pair.outlier', `${W1}→${W2}`],
        ['bw.pair.outlier', `${W2}→${W1}`],
        ['bw.pair.outlier', `${W2}→${W3}`],
        ['bw.pair.outlier', `${W3}→${W2}`],
      ],
    );
    assert.equal(flags[0]?.metrics['factor'], 53.13);
  });

  it('nothing arrived (a black hole): an outlier without a factor', () => {
    const [flag] = flagPairs(data([result(W1, W2, 0), result(W2, W1, 5 * G), result(W1, W3, 5 * G)]));
    assert.equal(flag?.id, 'bw.pair.outlier');
    assert.match(flag?.summary ?? '', /: nothing arrived, against the 5\.00 Gbit\/s the cluster's links reach$/);
    assert.deepEqual(flag?.metrics, { referenceBitsPerSecond: 5e9 });
  });

  it('a healthy spread (2×) is not an outlier', () => {
    const healthy = [result(W1, W2, 3 * G), result(W2, W1, 6 * G), result(W1, W3, 5 * G), result(W3, W1, 4 * G)];
    assert.deepEqual(flagPairs(data(healthy)), []);
  });

  it('retransmits: above 1 per 100 segments sent', () => {
    // 1 Gbit/s for 10 s ≈ 863,000 segments: 10,000 retransmits ≈ 1.16 %; 500 ≈ 0.06 % (a healthy busy link).
    const flags = flagPairs(
      data([result(W1, W2, G, { retransmits: 10_000 }), result(W2, W1, G, { retransmits: 500 })]),
    );
    assert.deepEqual(
      flags.map((flag) => [flag.id, flag.result.from, flag.metrics['retransmitPercent']]),
      [['bw.pair.retransmits', W1, 1.16]],
    );
  });

  it('UDP loss above 1 %', () => {
    const udp = (from: string, to: string, lostPercent: number) =>
      result(from, to, 990 * M, { protocol: 'udp', retransmits: null, lostPercent, lostPackets: 10, jitterMs: 0.1 });
    const flags = flagPairs(data([udp(W1, W2, 0.2), udp(W2, W1, 4.9)]));
    assert.deepEqual(
      flags.map((flag) => [flag.id, flag.result.from]),
      [['bw.pair.udp-loss', W2]],
    );
  });

  it('pod network below half the host network between the same nodes', () => {
    const ratios: NetworkRatio[] = [
      { from: W1, to: W2, podBitsPerSecond: 2 * G, hostBitsPerSecond: 8 * G, ratio: 0.25 },
      { from: W2, to: W1, podBitsPerSecond: 7 * G, hostBitsPerSecond: 8 * G, ratio: 0.875 },
    ];
    const results = [
      result(W1, W2, 2 * G),
      result(W2, W1, 7 * G),
      result(W1, W2, 8 * G, { network: 'host' }),
      result(W2, W1, 8 * G, { network: 'host' }),
    ];
    const flags = flagPairs(data(results, ratios)).filter((flag) => flag.id === 'bw.pair.overlay-overhead');
    assert.deepEqual(
      flags.map((flag) => [flag.result.from, flag.metrics['ratio']]),
      [[W1, 0.25]],
    );
  });

  it('a failed test is a flagged bw.pair', () => {
    const flags = flagPairs(
      data([result(W1, W2, null, { error: 'unable to connect to server: Connection timed out' })]),
    );
    assert.deepEqual(
      flags.map((flag) => flag.id),
      ['bw.pair'],
    );
  });
});

describe('--min-rate: below-min', () => {
  /** Two nodes behind the same 100 Mbit/s cap: no pair is an outlier among the others. */
  const capped = [result(W1, W2, 95 * M), result(W2, W1, 96 * M)];
  it('a slowdown every pair shares is no outlier, and fails every pair below --min-rate', () => {
    assert.deepEqual(flagPairs(bwData(capped)), []);
    const flags = flagPairs(bwData(capped, { minBitsPerSecond: 1 * G }));
    assert.deepEqual(
      flags.map((flag) => [flag.id, `${flag.result.from}→${flag.result.to}`, flag.metrics['minBitsPerSecond']]),
      [
        ['bw.pair.below-min', `${W1}→${W2}`, 1e9],
        ['bw.pair.below-min', `${W2}→${W1}`, 1e9],
      ],
    );
    assert.equal(flags[0]?.summary, `${W1}→${W2} (pod network): 95.0 Mbit/s, below the 1.00 Gbit/s of --min-rate`);
  });
  it('pairs at or above it pass; a failed test is bw.pair, not below-min', () => {
    const flags = flagPairs(
      bwData([result(W1, W2, 1 * G), result(W2, W1, null, { error: 'x' })], { minBitsPerSecond: 1 * G }),
    );
    assert.deepEqual(
      flags.map((flag) => flag.id),
      ['bw.pair'],
    );
  });
  it('the finding names the cause, like an outlier', () => {
    const findings = bwFindings(bwData(capped, { minBitsPerSecond: 1 * G }), new Map());
    const below = findings.filter((f) => f.id === 'bw.pair.below-min');
    assert.equal(below.length, 2);
    assert.ok(below.every((f) => f.status === 'fail' && f.metrics?.['cause'] === 'none'));
  });
});

describe('likeliestCause (evidence from real counters)', () => {
  const evidence = (overrides: Partial<PairEvidence>): PairEvidence => ({
    counters: [],
    mtuMismatches: [],
    unavailable: [],
    ...overrides,
  });
  const dfFailed = {
    command: 'ping -n -c 2 -W 1 -w 3 -M do -s 1472 10.233.65.4',
    output: '2 packets transmitted, 0 received, 100% packet loss',
    size: 1472,
    passed: false,
    reason: 'timeout',
    smallPassed: true,
  };

  const table: [string, PairEvidence | undefined, string][] = [
    ['nothing moved', evidence({ counters: [{ node: W1, diff: quietDiff }] }), 'none'],
    ['a drop rule counted', evidence({ counters: [{ node: W1, diff: quietDiff }, { node: W3, diff: realDiff }] }), 'firewall'],
    ['only NIC counters moved', evidence({ counters: [{ node: W2, diff: nicOnlyDiff }] }), 'nic-errors'],
    ['the DF ping failed, a small one passed', evidence({ dontFragment: dfFailed, counters: [{ node: W2, diff: realDiff }] }), 'mtu'],
    ['the nodes disagree on eth0’s MTU', evidence({ mtuMismatches: [{ name: 'eth0', fromMtu: 1500, toMtu: 1400 }] }), 'mtu'],
    ['DF and small ping both failed (ICMP filtered): not MTU', evidence({ dontFragment: { ...dfFailed, smallPassed: false } }), 'none'],
    ['no evidence at all', undefined, 'none'],
  ]; // prettier-ignore
  for (const [name, given, cause] of table) {
    it(`${name} → ${cause}`, () => assert.equal(likeliestCause(given).cause, cause));
  }

  it('a test that made no connection names the rule that drops all it matches before one that drops at random', () => {
    const rule = (table: string, chain: string, text: string): FirewallRule => ({
      backend: 'iptables-nft',
      family: 'ipv4',
      table,
      chain,
      rule: text,
      verdict: 'DROP',
      packets: 0,
      bytes: 0,
    });
    const loss = rule(
      'mangle',
      'POSTROUTING',
      '-A POSTROUTING -o va -m statistic --mode random --probability 0.05 -j DROP',
    );
    const block = rule('raw', 'PREROUTING', '-A PREROUTING -p tcp -m tcp --dport 5201 -j DROP');
    const both = evidence({
      counters: [
        { node: W1, diff: { nicErrors: [], droppingRules: [{ rule: loss, packets: 11, bytes: 660 }], shapers: [] } },
        { node: W3, diff: { nicErrors: [], droppingRules: [{ rule: block, packets: 5, bytes: 300 }], shapers: [] } },
      ],
    });
    assert.match(
      likeliestCause(both, { blocked: true, bitsPerSecond: null }).summary,
      /\(raw PREROUTING on worker3\.kube\.local dropped 5: -A PREROUTING -p tcp -m tcp --dport 5201 -j DROP\)$/,
    );
    // A slow link that did connect: the rule that dropped most is the likeliest.
    assert.match(
      likeliestCause(both, { blocked: false, bitsPerSecond: 1 * M }).summary,
      /\(mangle POSTROUTING on worker1\.kube\.local dropped 11: /,
    );
  });
  it("UDP loss the receiver's socket buffer dropped is the host's (receiver-buffer), ahead of anything else", () => {
    const verdict = likeliestCause(
      evidence({
        udpLoss: { receiver: W2, lost: 12823, bufferDropped: 12823 },
        counters: [{ node: W2, diff: realDiff }],
      }),
    );
    assert.equal(verdict.cause, 'receiver-buffer');
    assert.match(
      verdict.summary,
      /12823 of the 12823 lost datagrams were dropped on worker2\.kube\.local \(Udp RcvbufErrors\)/,
    );
    assert.equal(verdict.evidence[0]?.command, 'cat /proc/net/snmp (Udp: RcvbufErrors)');
    // Drops that explain less than half of the loss: the network is still the suspect.
    assert.equal(likeliestCause(evidence({ udpLoss: { receiver: W2, lost: 1000, bufferDropped: 100 } })).cause, 'none');
  });
  it('a tbf that passed the test and whose rate the pair measured is the cause (shaper), named with its device and node', () => {
    const shaped = evidence({
      counters: [
        { node: W1, diff: quietDiff },
        { node: W2, diff: shapedDiff },
      ],
    });
    const verdict = likeliestCause(shaped, { blocked: false, bitsPerSecond: 95.4 * M, sender: W2 });
    assert.equal(verdict.cause, 'shaper');
    assert.equal(verdict.node, W2);
    assert.equal(
      verdict.summary,
      `traffic shaping: eth0 on ${W2} (the sender) is limited to 100.0 Mbit/s by its tbf qdisc (2422 overlimits during the test), and the pair measured 95.4 Mbit/s`,
    );
    const shapedBoth = evidence({
      counters: [
        { node: W1, diff: shapedDiff },
        { node: W2, diff: shapedDiff },
      ],
    });
    assert.equal(likeliestCause(shapedBoth, { blocked: false, bitsPerSecond: 95 * M, sender: W2 }).node, W2);
    assert.match(verdict.evidence.map((line) => line.output).join('\n'), /eth0 qdisc tbf rate 100\.0 Mbit\/s/);
  });
  it('a shaper is not the cause when the pair measured well below or above its rate, or a rule dropped packets', () => {
    const shaped = evidence({ counters: [{ node: W2, diff: shapedDiff }] });
    assert.equal(likeliestCause(shaped, { blocked: false, bitsPerSecond: 30 * M }).cause, 'none');
    assert.equal(likeliestCause(shaped, { blocked: false, bitsPerSecond: 5 * G }).cause, 'none');
    assert.equal(likeliestCause(shaped, { blocked: true, bitsPerSecond: null }).cause, 'none');
    const alsoDropping = evidence({
      counters: [{ node: W2, diff: { ...shapedDiff, droppingRules: realDiff.droppingRules } }],
    });
    assert.equal(likeliestCause(alsoDropping, { blocked: false, bitsPerSecond: 95 * M }).cause, 'firewall');
  });
  it('names the rule and the node, and shows the counters as evidence', () => {
    const verdict = likeliestCause(evidence({ counters: [{ node: W3, diff: realDiff }] }));
    assert.match(verdict.summary, /^firewall: 3 DROP\/REJECT rule\(s\) counted packets \(mangle PREROUTING on worker3/);
    assert.equal(verdict.evidence[0]?.where, `node/${W3} counters during the test`);
    assert.match(verdict.evidence[0]?.output ?? '', /statistic --mode random/);
  });
});

describe('bwFindings', () => {
  it("UDP loss the receiver dropped itself is a warning with the host's hint, not a failed link", () => {
    const lossy = result(W1, W2, 990 * M, {
      protocol: 'udp',
      retransmits: null,
      lostPercent: 4.9,
      lostPackets: 12823,
      jitterMs: 0.1,
      receiveBufferErrors: 12823,
    });
    const evidence = new Map([
      [
        resultKey(lossy),
        {
          counters: [],
          mtuMismatches: [],
          unavailable: [],
          udpLoss: { receiver: W2, lost: 12823, bufferDropped: 12823 },
        },
      ],
    ]);
    const found = bwFindings(data([lossy]), evidence).find((finding) => finding.id === 'bw.pair.udp-loss');
    assert.equal(found?.status, 'warn');
    assert.equal(found?.metrics?.['cause'], 'receiver-buffer');
    assert.match(found?.hint ?? '', /the receiving host, not the network/);
  });
  it('a bw.pair per direction, then the flagged ones with their cause', () => {
    const run = data(rateFault);
    const evidence = new Map([
      [resultKey(rateFault[0] as PairResult), { counters: [], mtuMismatches: [], unavailable: [] }],
    ]);
    const findings = bwFindings(run, evidence);
    assert.equal(findings.filter((finding) => finding.id === 'bw.pair' && finding.status === 'pass').length, 6);
    const outliers = findings.filter((finding) => finding.id === 'bw.pair.outlier');
    assert.equal(outliers.length, 4);
    assert.ok(outliers.every((finding) => finding.status === 'fail' && finding.metrics?.['cause'] === 'none'));
    assert.equal(outliers[0]?.subject, `${W1}→${W2}`);
    assert.equal(outliers[0]?.metrics?.['bitsPerSecond'], 96_000_000);
  });

  it('a failed test fails its bw.pair and says which port to open', () => {
    const findings = bwFindings(
      data([result(W1, W2, null, { error: 'unable to connect to server: Connection timed out' })]),
      new Map(),
    );
    assert.deepEqual(
      findings.map((finding) => [finding.id, finding.status]),
      [['bw.pair', 'fail']],
    );
    assert.match(findings[0]?.hint ?? '', /worker2\.kube\.local accepts TCP port 5201 from worker1\.kube\.local/);
  });

  it('a CPU-bound test is a warning: the number measures the CPU', () => {
    const findings = bwFindings(data([result(W1, W2, 9 * G, { cpu: { sender: 99.5, receiver: 60 } })]), new Map());
    const cpu = findings.find((finding) => finding.id === 'bw.pair.cpu-bound');
    assert.equal(cpu?.status, 'warn');
    assert.match(cpu?.summary ?? '', /100 % of a CPU at the sender worker1/);
  });
});
