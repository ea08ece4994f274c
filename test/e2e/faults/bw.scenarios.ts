/**
 * bw under the lab's faults (run by driver.test.ts): a capped node's pairs measure the cap and are outliers; packet
 * loss is retransmits with the firewall (the lab's loss is an iptables `statistic` rule) as the cause; a node whose
 * uplink MTU is smaller than the pods' is named as an MTU problem; a blocked iperf3 port fails its pairs with the
 * firewall named. bw measures, so every scenario runs alone (`exclusive`).
 */
import assert from 'node:assert/strict';
import type { BwData } from '../../../src/bw/model.js';
import type { DiagnosticResult, Finding } from '../../../src/findings/model.js';
import { FAULTS, labNode, parseJson, pairSubject, type FaultScenario, type ScenarioContext } from './registry.js';

type BwResult = DiagnosticResult<BwData>;

/** The port the block scenario closes, and its bw runs use. */
const BLOCKED_PORT = 5201;

/** 3 s tests after 1 s of slow start: long enough for TCP to feel a cap or a loss rate. */
const MEASURE = ['--time', '3s', '--omit', '1s'];

async function bw(ctx: ScenarioContext, args: readonly string[]): Promise<{ status: number | null; result: BwResult }> {
  const run = await ctx.netdiag(['bw', '-o', 'json', ...args], { timeoutMs: 240_000 });
  return { status: run.status, result: parseJson<BwResult>(run) };
}

/** Directed pairs of the lab that involve `short` (as sender or receiver). */
const pairsWith = (ctx: ScenarioContext, short: string): string[] =>
  ctx.nodes.flatMap((other) =>
    other === labNode(short) ? [] : [`${labNode(short)}→${other}`, `${other}→${labNode(short)}`],
  );

const flagged = (result: BwResult, id: string, subject: string): Finding | undefined =>
  result.findings.find((finding) => finding.id === id && finding.subject === subject && finding.status === 'fail');

function describeFindings(result: BwResult): string {
  return result.findings
    .filter((finding) => finding.status !== 'pass')
    .map((finding) => `  ${finding.id} ${finding.subject} ${finding.metrics?.['cause'] ?? ''} ${finding.summary}`)
    .join('\n');
}

export const scenarios: readonly FaultScenario[] = [
  {
    fault: FAULTS.rate,
    command: 'bw',
    title:
      'every pair of the capped node measures the cap ±15 % and is an outlier, the node’s qdisc named as the cause',
    exclusive: true,
    async run(ctx) {
      const [short, mbit] = FAULTS.rate.args;
      const { status, result } = await bw(ctx, MEASURE);
      assert.equal(status, 1, describeFindings(result));
      for (const subject of pairsWith(ctx, short)) {
        const measured = result.data.results.find((pair) => `${pair.from}→${pair.to}` === subject);
        const rate = (measured?.bitsPerSecond ?? 0) / 1e6;
        assert.ok(Math.abs(rate - Number(mbit)) <= 0.15 * Number(mbit), `${subject}: ${rate.toFixed(1)} Mbit/s`);
        const outlier = flagged(result, 'bw.pair.outlier', subject);
        assert.ok(outlier, `${subject} is an outlier:\n${describeFindings(result)}`);
        // The fault is a tbf qdisc on the node's eth0: named as the cause, on that node.
        assert.equal(outlier.metrics?.['cause'], 'shaper', outlier.summary);
        assert.equal(outlier.metrics?.['causeNode'], labNode(short), outlier.summary);
      }
      const others = result.findings.filter(
        (finding) => finding.id === 'bw.pair.outlier' && !pairsWith(ctx, short).includes(finding.subject),
      );
      assert.deepEqual(others, [], 'pairs without the capped node are not outliers');
    },
  },
  {
    fault: FAULTS.rate,
    command: 'bw',
    title: '--min-rate: two nodes behind the cap are no outliers, yet fail below the rate, the qdisc named',
    exclusive: true,
    async run(ctx) {
      const [short] = FAULTS.rate.args;
      const other = ctx.nodes.find((node) => node !== labNode(short));
      assert.ok(other);
      const nodes = ['--nodes', `${labNode(short)},${other}`, ...MEASURE];
      const { status, result } = await bw(ctx, [...nodes, '--min-rate', '1G']);
      assert.equal(status, 1, describeFindings(result));
      assert.equal(result.data.minBitsPerSecond, 1e9);
      for (const subject of [`${labNode(short)}→${other}`, `${other}→${labNode(short)}`]) {
        const below = flagged(result, 'bw.pair.below-min', subject);
        assert.ok(below, `${subject} below --min-rate\n${describeFindings(result)}`);
        assert.equal(below.metrics?.['cause'], 'shaper', below.summary);
        assert.equal(flagged(result, 'bw.pair.outlier', subject), undefined, 'two capped pairs: neither is an outlier');
      }
    },
  },
  {
    fault: FAULTS.loss,
    command: 'bw',
    title: 'packet loss: retransmits flagged on the lossy node’s pairs, the firewall named as the cause',
    exclusive: true,
    async run(ctx) {
      const [short] = FAULTS.loss.args;
      const { status, result } = await bw(ctx, MEASURE);
      assert.equal(status, 1, describeFindings(result));
      // A pair that moved data is flagged for its retransmits. At 10 % loss a connection sometimes sits in
      // retransmission backoff through most of the measured seconds (a CI run: worker2→worker3 moved 0.0 Mbit/s, and
      // no retransmit ratio came of it); it is then an outlier far below the others — the firewall is named either way.
      let retransmitsFlagged = 0;
      for (const subject of pairsWith(ctx, short)) {
        const retransmits = flagged(result, 'bw.pair.retransmits', subject);
        const finding = retransmits ?? flagged(result, 'bw.pair.outlier', subject);
        assert.ok(finding, `${subject}: retransmits (or a stalled outlier) flagged\n${describeFindings(result)}`);
        assert.equal(finding.metrics?.['cause'], 'firewall', finding.summary);
        if (retransmits) retransmitsFlagged += 1;
      }
      assert.ok(retransmitsFlagged > 0, `retransmits flagged on at least one pair\n${describeFindings(result)}`);
    },
  },
  {
    fault: FAULTS.mtu,
    command: 'bw',
    title: 'a node uplink MTU below the pods’: the pairs into it are bad and the MTU is named',
    exclusive: true,
    async run(ctx) {
      const [short] = FAULTS.mtu.args;
      const { status, result } = await bw(ctx, MEASURE);
      assert.equal(status, 1, describeFindings(result));
      // Every failed pair into the node names the MTU, and at least one does. Not every pair fails: in one CI run
      // worker3→worker2 measured normally while worker1→worker2 carried nothing (why is open; see issue 11's note).
      const into = result.findings.filter(
        (finding) => finding.subject.endsWith(`→${labNode(short)}`) && finding.status === 'fail',
      );
      assert.ok(into.length > 0, `a pair into ${short} fails\n${describeFindings(result)}`);
      for (const finding of into)
        assert.equal(finding.metrics?.['cause'], 'mtu', `${finding.subject}: MTU named\n${describeFindings(result)}`);
    },
  },
  {
    fault: { name: 'block', args: ['worker2', `tcp/${BLOCKED_PORT}`] },
    command: 'bw',
    title: 'a blocked iperf3 port fails the pairs to that node, the firewall named',
    exclusive: true,
    async run(ctx) {
      const { status, result } = await bw(ctx, ['--port', String(BLOCKED_PORT), '--time', '1s', '--omit', '0']);
      assert.equal(status, 1, describeFindings(result));
      for (const from of ['worker1', 'worker3']) {
        const finding = flagged(result, 'bw.pair', pairSubject(from, 'worker2'));
        assert.ok(finding, `${from}→worker2 failed\n${describeFindings(result)}`);
        assert.match(finding.summary, /unable to connect|timed out/i);
        assert.equal(finding.metrics?.['cause'], 'firewall', finding.summary);
      }
      assert.ok(flagged(result, 'bw.pair', pairSubject('worker2', 'worker1')) === undefined, 'worker2 can send');
    },
  },
];
