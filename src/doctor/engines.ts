/**
 * The commands doctor runs, as {@link DoctorEngine}s: each one's own engine with the options doctor gives it. The
 * options are the commands' defaults except what doctor's flags pass on (outside targets, the short bandwidth run).
 */
import { checkRequirements, runCheck } from '../check/engine.js';
import { type CheckOptions } from '../check/options.js';
import { fleetRequirements } from '../kube/fleet.js';
import { DEFAULT_NODE_OPTIONS, runNode } from '../node/engine.js';
import { type DoctorEngine } from './engine.js';

/** What doctor passes on to the engines it runs. */
export interface EngineSettings {
  readonly check: CheckOptions;
}

export function doctorEngines(settings: EngineSettings): DoctorEngine[] {
  return [
    {
      name: 'node',
      measures: false,
      requirements: fleetRequirements,
      run: (ctx) => runNode(ctx, { ...DEFAULT_NODE_OPTIONS, full: false }),
    },
    {
      name: 'check',
      measures: false,
      requirements: checkRequirements,
      run: (ctx) => runCheck(ctx, settings.check),
    },
  ];
}
