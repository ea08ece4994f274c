/**
 * The one value a diagnosis engine receives besides its typed options: `runBw(ctx, options)`, `runDns(ctx, options)`,
 * ... The command creates it (and with it the run session, which it cleans up however the run ends); engines never
 * create sessions, never read `process.*` or flags, and share the fleets, so doctor's four engines share one set of
 * helper pods and one cleanup.
 */
import type { Progress } from '../lib/progress.js';
import type { KubeClient } from './client.js';
import { Fleets, type FleetSettings } from './fleet.js';
import type { SelectedNode } from './nodes.js';
import type { RunSession } from './session.js';

export interface DiagnosticContext {
  readonly client: KubeClient;
  /** Owns every object the run creates; the command deletes them when it ends. */
  readonly session: RunSession;
  readonly progress: Progress;
  /** Aborted on SIGINT/SIGTERM; pass it to every call. */
  readonly signal: AbortSignal;
  readonly fleets: Fleets;
  /** Where helper pods and other run objects go. */
  readonly namespace: string;
  /** The tools image (resolved from --image, NETDIAG_REGISTRY, the config file). */
  readonly image: string;
  /** The nodes the user chose (--nodes, --node-selector; default every Ready, schedulable node), resolved up front. */
  readonly nodes: readonly SelectedNode[];
}

export interface ContextSettings extends FleetSettings {
  readonly nodes: readonly SelectedNode[];
}

export function createDiagnosticContext(settings: ContextSettings): DiagnosticContext {
  const { client, session, progress, signal, namespace, image, nodes } = settings;
  return { client, session, progress, signal, namespace, image, nodes, fleets: new Fleets(settings) };
}
