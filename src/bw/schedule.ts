/**
 * Which iperf3 tests run at the same time. An iperf3 server serves one test at a time and a node's NIC is shared by
 * everything on it, so a round is a set of tests in which no node takes part twice (as client or server): a matching.
 * Covering a set of ordered pairs in the fewest rounds is edge-colouring the multigraph of those pairs (a→b and b→a
 * are two parallel edges between a and b).
 *
 * Fewest rounds, and why it is the fewest:
 * - a node in d requested tests needs d rounds (it is in at most one test per round): rounds ≥ Δ, the busiest node's
 *   number of tests;
 * - a round holds at most ⌊n/2⌋ tests among n nodes: rounds ≥ ⌈pairs / ⌊n/2⌋⌉.
 * - Every ordered pair of n nodes (the whole matrix) meets both bounds with the circle method (a round-robin
 *   tournament played twice, once per direction): 2(n−1) rounds for even n, 2n for odd n.
 * - `--from A` / `--to A` are stars: every test involves A, so one test per round is the optimum (Δ = pairs).
 * - Any other subset (`--pairs`) is general multigraph edge-colouring, NP-hard (Holyer 1981), and greedy colouring is
 *   not optimal (test/unit/bw/schedule.test.ts shows a case). It is solved exactly by a search that tries the lower
 *   bound first and one round more each time the search is exhausted; a step budget keeps huge hand-written pair
 *   lists from running long, and then the result is the best found (reported by `optimal: false`).
 */

/** One iperf3 test: `from` runs the client, `to` the server. */
export interface Pair {
  readonly from: string;
  readonly to: string;
}

export type Round = readonly Pair[];

export interface Schedule {
  readonly rounds: readonly Round[];
  /** The fewest rounds any schedule can have (the larger of the two bounds above; `--serial`: the number of pairs). */
  readonly lowerBound: number;
  /** True when the number of rounds is proven minimal: it meets the lower bound or a search proved fewer impossible. */
  readonly optimal: boolean;
}

export const pairKey = (pair: Pair): string => `${pair.from}→${pair.to}`;

/** Every ordered pair of distinct nodes, rows in the given order: the full matrix. */
export function allPairs(nodes: readonly string[]): Pair[] {
  return nodes.flatMap((from) => nodes.filter((to) => to !== from).map((to) => ({ from, to })));
}

/** The nodes the pairs touch, in order of first appearance. */
export function pairNodes(pairs: readonly Pair[]): string[] {
  return [...new Set(pairs.flatMap((pair) => [pair.from, pair.to]))];
}

/** max(Δ, ⌈pairs / ⌊n/2⌋⌉): no schedule of these pairs has fewer rounds (see the module comment). */
export function roundsLowerBound(pairs: readonly Pair[]): number {
  if (pairs.length === 0) return 0;
  const degree = new Map<string, number>();
  for (const { from, to } of pairs) {
    degree.set(from, (degree.get(from) ?? 0) + 1);
    degree.set(to, (degree.get(to) ?? 0) + 1);
  }
  const perRound = Math.floor(degree.size / 2);
  return Math.max(Math.max(...degree.values()), Math.ceil(pairs.length / perRound));
}

/**
 * The rounds for `pairs` (duplicates and self-pairs are the caller's to reject; they throw here). `serial`: one test
 * per round, for operators who want no two tests at once anywhere in the cluster.
 */
export function schedulePairs(pairs: readonly Pair[], options: { serial: boolean }, searchSteps = 200_000): Schedule {
  const keys = new Set(pairs.map(pairKey));
  if (keys.size !== pairs.length) throw new Error('schedulePairs: duplicate pairs');
  if (pairs.some((pair) => pair.from === pair.to)) throw new Error('schedulePairs: a node paired with itself');
  if (options.serial) return { rounds: pairs.map((pair) => [pair]), lowerBound: pairs.length, optimal: true };
  const lowerBound = roundsLowerBound(pairs);
  const nodes = pairNodes(pairs);
  if (pairs.length === nodes.length * (nodes.length - 1)) {
    return { rounds: circleRounds(nodes), lowerBound, optimal: true };
  }
  return colourEdges(pairs, lowerBound, searchSteps);
}

/**
 * The circle method: with an even number of seats (a bye seat added for odd n), seat n−1 stays and the others turn
 * one place per round, so every two seats meet exactly once in n−1 rounds. Played a second time with every pair
 * reversed, it covers each ordered pair once. Tests against the bye are dropped (that node sits the round out).
 */
function circleRounds(nodes: readonly string[]): Round[] {
  const seats: (string | undefined)[] = nodes.length % 2 === 0 ? [...nodes] : [...nodes, undefined];
  const turning = seats.length - 1;
  const firstLeg: Pair[][] = [];
  for (let round = 0; round < turning; round += 1) {
    const meetings: [string | undefined, string | undefined][] = [[seats[round], seats[turning]]];
    for (let offset = 1; offset < seats.length / 2; offset += 1) {
      meetings.push([seats[(round + offset) % turning], seats[(round - offset + turning) % turning]]);
    }
    // Who serves: the fixed seat alternates by round; elsewhere the seat ahead is the client, which is each turning
    // seat for half its meetings. Client and server turns stay balanced within a leg (iperf3's client is the sender).
    firstLeg.push(
      meetings.flatMap(([a, b], index) =>
        a === undefined || b === undefined
          ? []
          : index === 0 && round % 2 === 1
            ? [{ from: b, to: a }]
            : [{ from: a, to: b }],
      ),
    );
  }
  const secondLeg = firstLeg.map((round) => round.map(({ from, to }) => ({ from: to, to: from })));
  return [...firstLeg, ...secondLeg];
}

/**
 * Exact edge-colouring by backtracking search (most constrained pair first, a new round only tried once per step),
 * starting at the lower bound. With 2Δ−1 rounds every pair always has a free round (its two nodes block at most
 * 2Δ−2), so the search cannot fail there and the loop ends.
 */
function colourEdges(pairs: readonly Pair[], lowerBound: number, searchSteps: number): Schedule {
  const nodes = pairNodes(pairs);
  const index = new Map(nodes.map((node, i) => [node, i]));
  const ends = pairs.map(({ from, to }) => [index.get(from) ?? 0, index.get(to) ?? 0] as const);
  const busiest = Math.max(...nodes.map((_, node) => ends.filter((pair) => pair.includes(node)).length));
  let provenImpossibleBelow = lowerBound;
  for (let rounds = lowerBound; ; rounds += 1) {
    // From 2Δ−1 rounds on the search never backtracks, so it needs no budget.
    const budget = rounds >= 2 * busiest - 1 ? Infinity : searchSteps;
    const outcome = searchColouring(ends, nodes.length, rounds, budget);
    if (outcome === 'exhausted') {
      provenImpossibleBelow = rounds + 1;
      continue;
    }
    if (outcome === 'budget') continue;
    const schedule: Pair[][] = Array.from({ length: rounds }, () => []);
    outcome.forEach((colour, edge) => {
      const pair = pairs[edge];
      if (pair) schedule[colour]?.push(pair);
    });
    // A search after a spent budget may leave a round unused: fewer rounds than tried, never more.
    const used = schedule.filter((round) => round.length > 0);
    return { rounds: used, lowerBound, optimal: used.length === provenImpossibleBelow };
  }
}

/** A colour (round) per edge, or why there is none: every possibility tried, or the step budget spent. */
function searchColouring(
  ends: readonly (readonly [number, number])[],
  nodeCount: number,
  colours: number,
  budget: number,
): number[] | 'exhausted' | 'budget' {
  const colourOf = new Array<number>(ends.length).fill(-1);
  // busy[node * colours + colour]: the node already has a test in that round.
  const busy = new Uint8Array(nodeCount * colours);
  let steps = 0;
  let outOfBudget = false;
  const freeColours = (edge: number): number => {
    const [a, b] = ends[edge] ?? [0, 0];
    let free = 0;
    for (let colour = 0; colour < colours; colour += 1) {
      if (!busy[a * colours + colour] && !busy[b * colours + colour]) free += 1;
    }
    return free;
  };
  const place = (coloured: number, usedColours: number): boolean => {
    if (coloured === ends.length) return true;
    let chosen = -1;
    let fewest = Infinity;
    for (let edge = 0; edge < ends.length; edge += 1) {
      if (colourOf[edge] !== -1) continue;
      const free = freeColours(edge);
      if (free < fewest) {
        fewest = free;
        chosen = edge;
        if (free === 0) return false;
      }
    }
    const [a, b] = ends[chosen] ?? [0, 0];
    // Unused rounds are interchangeable: trying the first of them is enough.
    const limit = Math.min(colours, usedColours + 1);
    for (let colour = 0; colour < limit; colour += 1) {
      if (busy[a * colours + colour] || busy[b * colours + colour]) continue;
      steps += 1;
      if (steps > budget) {
        outOfBudget = true;
        return false;
      }
      colourOf[chosen] = colour;
      busy[a * colours + colour] = 1;
      busy[b * colours + colour] = 1;
      if (place(coloured + 1, Math.max(usedColours, colour + 1))) return true;
      colourOf[chosen] = -1;
      busy[a * colours + colour] = 0;
      busy[b * colours + colour] = 0;
      if (outOfBudget) return false;
    }
    return false;
  };
  if (place(0, 0)) return colourOf;
  return outOfBudget ? 'budget' : 'exhausted';
}
