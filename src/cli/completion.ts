/**
 * Shell completion for `kubectl netdiag`, speaking cobra's `__complete` protocol because kubectl (≥ 1.26) delegates
 * plugin completion to an executable `kubectl_complete-<plugin>` and its shell scripts read that format: candidates
 * one per line, then a `:<directive>` line. Planning what to complete is pure (unit-tested); complete-cli.ts fetches
 * cluster names when the plan asks for them.
 */

/** cobra's ShellCompDirective bits. */
export const Directive = {
  Error: 1,
  NoSpace: 2,
  NoFileComp: 4,
  FilterFileExt: 8,
  FilterDirs: 16,
  KeepOrder: 32,
  Default: 0,
} as const;

export interface CompletionFlag {
  readonly name: string;
  readonly char?: string;
  readonly takesValue: boolean;
  readonly options?: readonly string[];
}

export interface CompletionCommand {
  /** oclif id, words joined by ':' */
  readonly id: string;
  readonly flags: readonly CompletionFlag[];
  /** Positional argument names in order, with their fixed options if any. */
  readonly args: readonly { readonly name: string; readonly options?: readonly string[] }[];
}

/** Where the candidates for a value come from. */
export type ValueSource = 'namespaces' | 'pods' | 'nodes' | 'services' | 'contexts' | 'clusters' | 'users';

/** Global flags that change which cluster the names come from. */
export interface CompletionAccess {
  kubeconfig?: string;
  context?: string;
  cluster?: string;
  user?: string;
  namespace?: string;
}

export type CompletionPlan =
  | { readonly kind: 'static'; readonly candidates: readonly string[]; readonly directive: number }
  | {
      readonly kind: 'cluster';
      readonly source: ValueSource;
      readonly prefix: string;
      readonly access: CompletionAccess;
      readonly candidatePrefix: string;
    };

/** Flag (or positional argument) names whose values are cluster or kubeconfig names. */
const VALUE_SOURCES: Readonly<Record<string, ValueSource>> = {
  namespace: 'namespaces',
  context: 'contexts',
  cluster: 'clusters',
  user: 'users',
  node: 'nodes',
  nodes: 'nodes',
  pod: 'pods',
  pods: 'pods',
  target: 'pods',
  targets: 'pods',
};

/** `kind/` prefixes of target arguments whose names come from the cluster. */
const TARGET_KINDS: readonly { prefix: string; source: ValueSource }[] = [
  { prefix: 'pod', source: 'pods' },
  { prefix: 'node', source: 'nodes' },
  { prefix: 'svc', source: 'services' },
];

const ACCESS_FLAGS = new Set(['kubeconfig', 'context', 'cluster', 'user', 'namespace']);

function findFlag(flags: readonly CompletionFlag[], word: string): CompletionFlag | undefined {
  if (word.startsWith('--')) return flags.find((flag) => flag.name === word.slice(2).split('=')[0]);
  if (word.startsWith('-') && word.length === 2) return flags.find((flag) => flag.char === word[1]);
  return undefined;
}

function valuePlan(
  flag: CompletionFlag,
  prefix: string,
  access: CompletionAccess,
  candidatePrefix: string,
): CompletionPlan {
  if (flag.options) {
    return {
      kind: 'static',
      candidates: flag.options.filter((o) => o.startsWith(prefix)).map((o) => candidatePrefix + o),
      directive: Directive.NoFileComp,
    };
  }
  // Files are the shell's job: directive 0 lets it complete paths.
  if (flag.name === 'kubeconfig') return { kind: 'static', candidates: [], directive: Directive.Default };
  const source = VALUE_SOURCES[flag.name];
  if (source === 'pods') {
    // Targets may be typed as kind/name (`node/worker1`, `svc/web`, `pod/web-1`): complete the name after the kind.
    const typed = TARGET_KINDS.find((kind) => prefix.startsWith(`${kind.prefix}/`));
    if (typed) {
      const head = `${typed.prefix}/`;
      return {
        kind: 'cluster',
        source: typed.source,
        prefix: prefix.slice(head.length),
        access,
        candidatePrefix: candidatePrefix + head,
      };
    }
  }
  if (source === 'nodes' && flag.name === 'nodes' && prefix.includes(',')) {
    // `--nodes a,b,<TAB>` completes the last name of the list.
    const head = prefix.slice(0, prefix.lastIndexOf(',') + 1);
    return {
      kind: 'cluster',
      source,
      prefix: prefix.slice(head.length),
      access,
      candidatePrefix: candidatePrefix + head,
    };
  }
  if (source) return { kind: 'cluster', source, prefix, access, candidatePrefix };
  return { kind: 'static', candidates: [], directive: Directive.NoFileComp };
}

/**
 * Decides what to complete from the words after `kubectl netdiag` (the last word is the one being typed, possibly
 * empty). `globalFlags` are offered before a command is chosen.
 */
export function planCompletion(
  commands: readonly CompletionCommand[],
  globalFlags: readonly CompletionFlag[],
  words: readonly string[],
): CompletionPlan {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  const access: CompletionAccess = {};
  const positionals: string[] = [];
  let command: CompletionCommand | undefined;
  let pendingFlag: CompletionFlag | undefined;

  const flagsInScope = () => command?.flags ?? globalFlags;
  for (const word of before) {
    if (pendingFlag) {
      if (ACCESS_FLAGS.has(pendingFlag.name)) access[pendingFlag.name as keyof CompletionAccess] = word;
      pendingFlag = undefined;
      continue;
    }
    if (word.startsWith('-') && word !== '-') {
      const flag = findFlag(flagsInScope(), word);
      if (flag?.takesValue) {
        if (word.includes('=')) {
          if (ACCESS_FLAGS.has(flag.name))
            access[flag.name as keyof CompletionAccess] = word.slice(word.indexOf('=') + 1);
        } else pendingFlag = flag;
      }
      continue;
    }
    if (!command) {
      const candidateId = [...positionals, word].join(':');
      const exact = commands.find((c) => c.id === candidateId);
      if (exact) {
        command = exact;
        positionals.length = 0;
        continue;
      }
      positionals.push(word);
      continue;
    }
    positionals.push(word);
  }

  if (pendingFlag) return valuePlan(pendingFlag, current, access, '');
  if (current.startsWith('--') && current.includes('=')) {
    const flag = findFlag(flagsInScope(), current);
    if (flag?.takesValue) {
      const head = current.slice(0, current.indexOf('=') + 1);
      return valuePlan(flag, current.slice(head.length), access, head);
    }
    return { kind: 'static', candidates: [], directive: Directive.NoFileComp };
  }
  if (current.startsWith('-')) {
    const names = flagsInScope().flatMap((flag) => [`--${flag.name}`, ...(flag.char ? [`-${flag.char}`] : [])]);
    return {
      kind: 'static',
      candidates: names.filter((name) => name.startsWith(current)).sort(),
      directive: Directive.NoFileComp,
    };
  }
  if (!command) {
    const typed = positionals.join(':');
    const next = new Set(
      commands
        .filter((c) => (typed ? c.id.startsWith(`${typed}:`) : true))
        .map((c) => c.id.slice(typed ? typed.length + 1 : 0).split(':')[0] ?? ''),
    );
    if (!typed) next.add('help');
    return {
      kind: 'static',
      candidates: [...next].filter((word) => word.startsWith(current)).sort(),
      directive: Directive.NoFileComp,
    };
  }
  const arg = command.args[positionals.length];
  if (!arg) return { kind: 'static', candidates: [], directive: Directive.NoFileComp };
  return valuePlan({ name: arg.name, takesValue: true, options: arg.options }, current, access, '');
}

/** cobra's answer format. */
export function renderCompletion(candidates: readonly string[], directive: number): string {
  return `${candidates.map((candidate) => `${candidate}\n`).join('')}:${directive}\n`;
}
