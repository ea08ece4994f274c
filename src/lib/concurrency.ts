/**
 * Bounded parallelism: at 500 nodes, creating 500 pods or opening 500 exec sockets at once overloads the API server
 * and the client alike, so fleet work runs at most `limit` tasks at a time.
 */

/**
 * Runs `task` for every item with at most `limit` in flight and returns the results in item order. Every task is
 * awaited: one rejection does not cancel the others (callers that want per-item failures catch inside `task`), and
 * the first rejection is rethrown once all have settled, so nothing is left running behind the caller's back.
 */
export async function mapBounded<Item, Result>(
  items: readonly Item[],
  limit: number,
  task: (item: Item, index: number) => Promise<Result>,
): Promise<Result[]> {
  const results = new Array<Result>(items.length);
  const failures: unknown[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      try {
        results[index] = await task(items[index] as Item, index);
      } catch (err) {
        failures.push(err);
      }
    }
  };
  const workers = Math.max(1, Math.min(Math.floor(limit) || 1, items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (failures.length > 0) throw failures[0];
  return results;
}
