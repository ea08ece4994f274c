/**
 * Entry point of `kubectl_complete-netdiag`. Reads commands and flags from oclif's config (so new commands complete
 * without changes here) and asks the cluster for pod/node/namespace names with a short timeout; any failure yields
 * no candidates rather than an error, as a shell completion must never print noise.
 */
import { Config } from '@oclif/core/config';
import { KubeClient } from '../kube/client.js';
import {
  Directive,
  planCompletion,
  renderCompletion,
  type CompletionCommand,
  type CompletionFlag,
  type CompletionPlan,
} from './completion.js';
import { globalFlags } from './flags.js';

const CLUSTER_TIMEOUT_MS = 5000;

type LoadedFlag = { name: string; char?: string; type: string; options?: readonly string[]; hidden?: boolean };

const toFlags = (flags: Record<string, LoadedFlag>): CompletionFlag[] =>
  Object.values(flags)
    .filter((flag) => !flag.hidden)
    .map((flag) => ({ name: flag.name, char: flag.char, takesValue: flag.type === 'option', options: flag.options }));

async function candidatesFor(plan: Extract<CompletionPlan, { kind: 'cluster' }>): Promise<string[]> {
  const access = { ...plan.access, requestTimeoutMs: CLUSTER_TIMEOUT_MS };
  switch (plan.source) {
    case 'contexts':
      return KubeClient.kubeconfigNames(access).contexts;
    case 'clusters':
      return KubeClient.kubeconfigNames(access).clusters;
    case 'users':
      return KubeClient.kubeconfigNames(access).users;
    case 'namespaces':
      return (await KubeClient.fromAccess(access).listNamespaces()).map((ns) => ns.metadata?.name ?? '');
    case 'nodes':
      return (await KubeClient.fromAccess(access).listNodes()).map((node) => node.metadata?.name ?? '');
    case 'pods': {
      const client = KubeClient.fromAccess(access);
      return (await client.listPods(client.namespace, {})).map((pod) => pod.metadata?.name ?? '');
    }
    case 'services': {
      const client = KubeClient.fromAccess(access);
      return (await client.listServices(client.namespace)).map((service) => service.metadata?.name ?? '');
    }
  }
}

async function complete(words: string[]): Promise<string> {
  const config = await Config.load(new URL('../../..', import.meta.url).pathname);
  const commands: CompletionCommand[] = config.commands
    .filter((command) => !command.hidden)
    .map((command) => ({
      id: command.id,
      flags: toFlags(command.flags as Record<string, LoadedFlag>),
      args: Object.values(command.args).map((arg) => ({ name: arg.name, options: arg.options })),
    }));
  const globals = toFlags(
    Object.fromEntries(Object.entries(globalFlags).map(([name, flag]) => [name, { ...flag, name }])) as Record<
      string,
      LoadedFlag
    >,
  );
  const plan = planCompletion(commands, globals, words.length === 0 ? [''] : words);
  if (plan.kind === 'static') return renderCompletion(plan.candidates, plan.directive);
  try {
    const names = await candidatesFor(plan);
    return renderCompletion(
      names
        .filter((name) => name.length > 0 && name.startsWith(plan.prefix))
        .sort()
        .map((name) => plan.candidatePrefix + name),
      Directive.NoFileComp,
    );
  } catch {
    return renderCompletion([], Directive.NoFileComp);
  }
}

const args = process.argv.slice(2);
// kubectl passes the words directly; cobra-style callers put `__complete` first.
if (args[0] === '__complete' || args[0] === '__completeNoDesc') args.shift();
process.stdout.write(await complete(args));
