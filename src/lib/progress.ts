import { Listr, ListrLogger, ProcessOutput } from 'listr2';

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
  info(message: string): void;
  warn(message: string): void;
  /** Only with `-v`. */
  debug(message: string): void;
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
  const ttyStep = async <T>(title: string, task: (detail: (text: string) => void) => Promise<T>): Promise<T> => {
    let result: T | undefined;
    const list = new Listr(
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
      {
        // Our own SIGINT/SIGTERM handling (src/lib/signals.ts) must run cleanup; listr2's would exit the process.
        registerSignalListeners: false,
        exitOnError: true,
        collectErrors: false,
        rendererOptions: {
          logger: new ListrLogger({ processOutput: new ProcessOutput(stderr, stderr) }),
          showErrorMessage: false,
        },
      },
    );
    await list.run();
    return result as T;
  };
  return {
    step: options.mode === 'tty' ? ttyStep : plainStep,
    info: (message) => {
      if (options.mode !== 'quiet') line(message);
    },
    warn: (message) => line(`warning: ${message}`),
    debug: (message) => {
      if (options.verbose) line(`debug: ${message}`);
    },
  };
}
