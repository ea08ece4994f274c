import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allPairs, pairKey, roundsLowerBound, schedulePairs, type Pair, type Round } from '../../../src/bw/schedule.js';

const nodeNames = (count: number): string[] => Array.from({ length: count }, (_, i) => `worker${i + 1}`);

/** Every requested pair exactly once, nothing else, no node twice in a round, no empty round. */
function assertValid(pairs: readonly Pair[], rounds: readonly Round[]): void {
  const seen = new Map<string, number>();
  rounds.forEach((round, index) => {
    assert.ok(round.length > 0, `round ${index} is empty`);
    const busy = new Set<string>();
    for (const pair of round) {
      assert.ok(!busy.has(pair.from), `round ${index}: ${pair.from} takes part twice`);
      assert.ok(!busy.has(pair.to), `round ${index}: ${pair.to} takes part twice`);
      busy.add(pair.from);
      busy.add(pair.to);
      seen.set(pairKey(pair), (seen.get(pairKey(pair)) ?? 0) + 1);
    }
  });
  const requested = new Set(pairs.map(pairKey));
  for (const [key, times] of seen) {
    assert.ok(requested.has(key), `${key} was not requested`);
    assert.equal(times, 1, `${key} scheduled ${times} times`);
  }
  assert.equal(seen.size, requested.size, 'a requested pair is missing');
}

/**
 * Independent of the scheduler: can these pairs be put into `rounds` rounds? Plain exhaustive assignment in input
 * order (exponential; only for the small cases below).
 */
function fitsIn(pairs: readonly Pair[], rounds: number): boolean {
  const roundOf: number[] = [];
  const assign = (index: number): boolean => {
    const pair = pairs[index];
    if (pair === undefined) return true;
    for (let round = 0; round < rounds; round += 1) {
      const clash = pairs
        .slice(0, index)
        .some(
          (other, j) =>
            roundOf[j] === round && [other.from, other.to].some((node) => node === pair.from || node === pair.to),
        );
      if (clash) continue;
      roundOf[index] = round;
      if (assign(index + 1)) return true;
    }
    return false;
  };
  return assign(0);
}

/** First-fit in input order: what a naive scheduler does. */
function greedyRounds(pairs: readonly Pair[]): number {
  const busy = new Set<string>();
  let rounds = 0;
  for (const { from, to } of pairs) {
    let round = 0;
    while (busy.has(`${from}@${round}`) || busy.has(`${to}@${round}`)) round += 1;
    busy.add(`${from}@${round}`);
    busy.add(`${to}@${round}`);
    rounds = Math.max(rounds, round + 1);
  }
  return rounds;
}

/** A deterministic pseudo-random sequence (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('schedulePairs: the whole matrix (circle method)', () => {
  it('covers every ordered pair once, no node twice in a round, in the optimal number of rounds, for N = 2..200', () => {
    for (let n = 2; n <= 200; n += 1) {
      const pairs = allPairs(nodeNames(n));
      const schedule = schedulePairs(pairs, { serial: false });
      assertValid(pairs, schedule.rounds);
      // Each node is in 2(n−1) tests, one per round at most; a round holds ⌊n/2⌋ tests: n(n−1)/⌊n/2⌋ = 2n for odd n.
      const optimum = n % 2 === 0 ? 2 * (n - 1) : 2 * n;
      assert.equal(schedule.rounds.length, optimum, `N=${n}`);
      assert.equal(schedule.lowerBound, optimum, `N=${n}`);
      assert.ok(schedule.optimal);
      // Full rounds: every node busy (even n) or exactly one node sitting out (odd n).
      for (const round of schedule.rounds) assert.equal(round.length, Math.floor(n / 2), `N=${n}`);
    }
  });

  it('splits client and server turns evenly over the matrix', () => {
    const schedule = schedulePairs(allPairs(nodeNames(6)), { serial: false });
    const firstLeg = schedule.rounds.slice(0, 5).flat();
    const asClient = new Map<string, number>();
    for (const { from } of firstLeg) asClient.set(from, (asClient.get(from) ?? 0) + 1);
    for (const count of asClient.values()) assert.ok(count >= 2 && count <= 3, `client ${count} of 5 times`);
  });
});

describe('schedulePairs: subsets', () => {
  it('--from A and --to A (stars) take one round per pair, the optimum since A is in every test', () => {
    const nodes = nodeNames(7);
    const from = nodes.slice(1).map((to) => ({ from: 'worker1', to }));
    const to = nodes.slice(1).map((node) => ({ from: node, to: 'worker1' }));
    for (const pairs of [from, to]) {
      const schedule = schedulePairs(pairs, { serial: false });
      assertValid(pairs, schedule.rounds);
      assert.equal(schedule.rounds.length, 6);
      assert.ok(schedule.optimal);
    }
  });

  it('--nodes subset: the whole matrix of the subset is the circle schedule', () => {
    const pairs = allPairs(['b', 'd', 'f']);
    const schedule = schedulePairs(pairs, { serial: false });
    assertValid(pairs, schedule.rounds);
    assert.equal(schedule.rounds.length, 6);
  });

  it('beats first-fit greedy where greedy is not optimal', () => {
    // The path a-d-e-c-b listed in this order: greedy puts d→e in a third round, two are enough.
    const pairs: Pair[] = [
      { from: 'b', to: 'c' },
      { from: 'a', to: 'd' },
      { from: 'e', to: 'c' },
      { from: 'd', to: 'e' },
    ];
    assert.equal(greedyRounds(pairs), 3);
    const schedule = schedulePairs(pairs, { serial: false });
    assertValid(pairs, schedule.rounds);
    assert.equal(schedule.rounds.length, 2);
    assert.ok(schedule.optimal);
  });

  it('needs more than the lower bound when the pairs say so, and proves it', () => {
    // A 5-cycle: Δ = 2 and ⌈5/⌊5/2⌋⌉ = 3; here the density bound is the answer.
    const cycle: Pair[] = ['a', 'b', 'c', 'd', 'e'].map((from, i, all) => ({ from, to: all[(i + 1) % 5] ?? 'a' }));
    const schedule = schedulePairs(cycle, { serial: false });
    assertValid(cycle, schedule.rounds);
    assert.equal(schedule.rounds.length, 3);
    // Petersen graph (one direction per edge): Δ = 3, ⌈15/5⌉ = 3, but its chromatic index is 4. The search must
    // exhaust 3 rounds to prove it.
    const petersen: Pair[] = [
      [0, 1], [1, 2], [2, 3], [3, 4], [4, 0],
      [0, 5], [1, 6], [2, 7], [3, 8], [4, 9],
      [5, 7], [7, 9], [9, 6], [6, 8], [8, 5],
    ].map(([from, to]) => ({ from: `n${from}`, to: `n${to}` })); // prettier-ignore
    const hard = schedulePairs(petersen, { serial: false });
    assertValid(petersen, hard.rounds);
    assert.equal(roundsLowerBound(petersen), 3);
    assert.equal(hard.rounds.length, 4);
    assert.ok(hard.optimal, 'the exhaustive search proved 3 rounds impossible');
  });

  it('random pair lists: optimal rounds, checked by an independent exhaustive search', () => {
    const next = random(11);
    for (let trial = 0; trial < 150; trial += 1) {
      const nodes = nodeNames(3 + Math.floor(next() * 4));
      const pairs = allPairs(nodes)
        .map((pair) => ({ pair, key: next() }))
        .sort((a, b) => a.key - b.key)
        .slice(0, 2 + Math.floor(next() * 9))
        .map(({ pair }) => pair);
      const schedule = schedulePairs(pairs, { serial: false });
      assertValid(pairs, schedule.rounds);
      const rounds = schedule.rounds.length;
      assert.ok(!fitsIn(pairs, rounds - 1), `${pairs.map(pairKey).join(',')} fits in ${rounds - 1} rounds`);
      assert.ok(schedule.optimal);
    }
  });

  it('a spent search budget still yields a valid schedule, marked not proven optimal', () => {
    const petersen: Pair[] = [
      [0, 1], [1, 2], [2, 3], [3, 4], [4, 0],
      [0, 5], [1, 6], [2, 7], [3, 8], [4, 9],
      [5, 7], [7, 9], [9, 6], [6, 8], [8, 5],
    ].map(([from, to]) => ({ from: `n${from}`, to: `n${to}` })); // prettier-ignore
    const schedule = schedulePairs(petersen, { serial: false }, 5);
    assertValid(petersen, schedule.rounds);
    assert.equal(schedule.optimal, false);
  });

  it('large hand-written lists finish: half of a 60-node matrix', () => {
    const next = random(5);
    const pairs = allPairs(nodeNames(60)).filter(() => next() < 0.5);
    const schedule = schedulePairs(pairs, { serial: false });
    assertValid(pairs, schedule.rounds);
    assert.ok(schedule.rounds.length <= roundsLowerBound(pairs) + 1, `${schedule.rounds.length} rounds`);
  });
});

describe('schedulePairs: --serial and bad input', () => {
  it('--serial runs one test per round', () => {
    const pairs = allPairs(nodeNames(4));
    const schedule = schedulePairs(pairs, { serial: true });
    assertValid(pairs, schedule.rounds);
    assert.equal(schedule.rounds.length, 12);
  });

  it('refuses duplicates and self-pairs (the command rejects them first)', () => {
    assert.throws(() => schedulePairs([{ from: 'a', to: 'a' }], { serial: false }));
    const ab = { from: 'a', to: 'b' };
    assert.throws(() => schedulePairs([ab, ab], { serial: false }));
  });

  it('no pairs, no rounds', () => {
    assert.deepEqual(schedulePairs([], { serial: false }).rounds, []);
  });
});
