/**
 * The commands doctor runs, as {@link DoctorEngine}s: each one's own engine with the options doctor gives it. The
 * options are the commands' defaults except what doctor's flags pass on (outside targets and names, the short
 * bandwidth run).
 */
import { runBw } from '../bw/engine.js';
import { BW_FLAG_DEFAULTS, bwOptions } from '../bw/options.js';
import { checkRequirements, runCheck } from '../check/engine.js';
import { type CheckOptions } from '../check/options.js';
import { dnsRequirements, runDns } from '../dns/engine.js';
import { type DnsOptions } from '../dns/options.js';
import { fleetRequirements } from '../kube/fleet.js';
import { DEFAULT_NODE_OPTIONS, inspectNodes, nodeRequirements } from '../node/engine.js';
import { bundleFiles } from '../node/bundle.js';
import { type DoctorEngine } from './engine.js';

/** What doctor passes on to the engines it runs. */
export interface EngineSettings {
  readonly check: CheckOptions;
  readonly dns: DnsOptions;
}

/** bw's defaults (`kubectl netdiag bw`), but each pair measured for doctor's --bw-duration on the pod network. */
const bwFlags = (durationMs: number) => ({ ...BW_FLAG_DEFAULTS, time: `${durationMs / 1000}s`, network: 'pod' });

export function doctorEngines(settings: EngineSettings): DoctorEngine[] {
  return [
    {
      name: 'node',
      measures: false,
      requirements: nodeRequirements,
      run: async (ctx, options) => {
        const inspected = await inspectNodes(ctx, { ...DEFAULT_NODE_OPTIONS, full: options.bundle });
        return { result: inspected.result, files: options.bundle ? bundleFiles(inspected) : [] };
      },
    },
    {
      name: 'dns',
      measures: false,
      requirements: dnsRequirements,
      run: async (ctx) => ({ result: await runDns(ctx, settings.dns), files: [] }),
    },
    {
      name: 'check',
      measures: false,
      requirements: checkRequirements,
      run: async (ctx) => ({ result: await runCheck(ctx, settings.check), files: [] }),
    },
    {
      name: 'bw',
      measures: true,
      requirements: fleetRequirements,
      run: async (ctx, options) => ({
        result: await runBw(
          ctx,
          bwOptions(
            bwFlags(options.bwDurationMs),
            ctx.nodes.map((node) => node.name),
          ),
        ),
        files: [],
      }),
    },
  ];
}
