import type * as Listr2 from 'listr2';
import { mapBounded } from './concurrency.js';

/**
 * Progress and logs for the operator, always on stderr so stdout stays data.
 * - `tty`: listr2 spinners (stderr is a terminal).
 * - `plain`: one line when a step starts and one when it ends (CI logs, pipes).
 * - `quiet`: no progress, no info; warnings still print because they change what the user should believe.
 */
export type ProgressMode = 'tty' | 'plain' | 'quiet';

export interface Progress {
  /** Runs `task` as a visible step; `detail` updates the step's sub-line (e.g. the pod's waiting reason). */
  step<T>(title: string, task: (detail: (text: string) => void) => Promise<T>): Promise<T>;
  /**
   * Runs `tasks` as the children of one visible step (a tree under listr2 on a TTY, one line per finished task
   * otherwise), at most `concurrency` at a time. A task's failure is its own: the others go on, and every outcome
   * comes back in task order.
   */
  tasks<T>(
    title: string,
    tasks: readonly ProgressTask<T>[],
    options?: { readonly concurrency?: number },
  ): Promise<PromiseSettledResult<T>[]>;
  info(message: string): void;
  warn(message: string): void;
  /** Only with `-v`. */
  debug(message: string): void;
}

/** One child of {@link Progress.tasks}; `detail` updates its sub-line. */
export interface ProgressTask<T> {
  readonly title: string;
  readonly run: (detail: (text: string) => void) => Promise<T>;
}

export function progressMode(options: { quiet: boolean; stderrIsTTY: boolean }): ProgressMode {
  if (options.quiet) return 'quiet';
  return options.stderrIsTTY ? 'tty' : 'plain';
}

export interface ProgressOptions {
  readonly mode: ProgressMode;
  readonly verbose: boolean;
  readonly stderr?: NodeJS.WriteStream;
}

export function createProgress(options: ProgressOptions): Progress {
  const stderr = options.stderr ?? process.stderr;
  const line = (text: string) => {
    stderr.write(`${text}\n`);
  };
  const plainStep = async <T>(title: string, task: (detail: (text: string) => void) => Promise<T>): Promise<T> => {
    if (options.mode === 'plain') line(`${title} ...`);
    let lastDetail = '';
    const detail = (text: string) => {
      // In plain mode only changes are printed, so a watch that repeats the same reason does not flood the log.
      if (options.mode === 'plain' && text !== lastDetail) line(`  ${text}`);
      lastDetail = text;
    };
    try {
      const result = await task(detail);
      if (options.mode === 'plain') line(`${title}: done`);
      return result;
    } catch (err) {
      if (options.mode === 'plain') line(`${title}: failed`);
      throw err;
    }
  };
  // listr2 is loaded by the first TTY step, not at start-up: only an interactive run draws spinners.
  const listrOptions = ({ ListrLogger, ProcessOutput }: typeof Listr2, exitOnError: boolean) => {
    const logger = new ListrLogger({ processOutput: new ProcessOutput(stderr, stderr) });
    return {
      // Our own SIGINT/SIGTERM handling (src/lib/signals.ts) must run cleanup; listr2's would exit the process.
      registerSignalListeners: false,
      exitOnError,
      collectErrors: false as const,
      rendererOptions: { logger, showErrorMessage: false },
      // listr2 falls back to its line renderer whenever STDOUT is not a terminal (`-o - | tshark`, `-o json > f`),
      // and that renderer logs to stdout unless given our logger: progress would corrupt the data stream.
      fallbackRendererOptions: { logger },
    };
  };
  const ttyStep = async <T>(title: string, task: (detail: (text: string) => void) => Promise<T>): Promise<T> => {
    let result: T | undefined;
    const listr2 = await import('listr2');
    const list = new listr2.Listr(
      [
        {
          title,
          task: async (_ctx, listrTask) => {
            result = await task((text) => {
              listrTask.output = text;
            });
          },
        },
      ],
      listrOptions(listr2, true),
    );
    await list.run();
    return result as T;
  };
  const settle = async <T>(run: () => Promise<T>): Promise<PromiseSettledResult<T>> => {
    try {
      return { status: 'fulfilled', value: await run() };
    } catch (reason) {
      return { status: 'rejected', reason };
    }
  };
  const ttyTasks = async <T>(
    title: string,
    tasks: readonly ProgressTask<T>[],
    concurrency: number,
  ): Promise<PromiseSettledResult<T>[]> => {
    const results: PromiseSettledResult<T>[] = [];
    const listr2 = await import('listr2');
    const list = new listr2.Listr(
      [
        {
          title,
          task: (_ctx, parent) =>
            parent.newListr(
              tasks.map((child, index) => ({
                title: child.title,
                task: async (_c: unknown, listrTask: { output: string }) => {
                  const outcome = await settle(() =>
                    child.run((text) => {
                      listrTask.output = text;
                    }),
                  );
                  results[index] = outcome;
                  // Rethrown so listr2 marks this child failed; exitOnError false keeps its siblings running.
                  if (outcome.status === 'rejected') throw outcome.reason;
                },
              })),
              { concurrent: concurrency, exitOnError: false },
            ),
        },
      ],
      listrOptions(listr2, false),
    );
    await list.run();
    return results;
  };
  const lineTasks = async <T>(
    title: string,
    tasks: readonly ProgressTask<T>[],
    concurrency: number,
  ): Promise<PromiseSettledResult<T>[]> => {
    const plain = options.mode === 'plain';
    if (plain) line(`${title} ...`);
    const results = await mapBounded(tasks, concurrency, (child) =>
      settle(() =>
        child.run((text) => {
          if (plain) line(`  ${child.title}: ${text}`);
        }),
      ).then((outcome) => {
        if (plain)
          line(
            `  ${child.title}: ${outcome.status === 'fulfilled' ? 'done' : `failed: ${outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason)}`}`,
          );
        return outcome;
      }),
    );
    const failed = results.filter((outcome) => outcome.status === 'rejected').length;
    if (plain) line(`${title}: ${failed === 0 ? 'done' : `${failed} of ${results.length} failed`}`);
    return results;
  };
  return {
    step: options.mode === 'tty' ? ttyStep : plainStep,
    tasks: (title, tasks, taskOptions) =>
      (options.mode === 'tty' ? ttyTasks : lineTasks)(title, tasks, taskOptions?.concurrency ?? tasks.length),
    info: (message) => {
      if (options.mode !== 'quiet') line(message);
    },
    warn: (message) => line(`warning: ${message}`),
    debug: (message) => {
      if (options.verbose) line(`debug: ${message}`);
    },
  };
}
