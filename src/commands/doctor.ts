import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import * as Flags from '@oclif/core/flags';
import { NetdiagCommand } from '../cli/command.js';
import { diagnosticFlags } from '../cli/flags.js';
import { DEFAULT_PARALLEL } from '../check/options.js';
import { DEFAULT_EXTERNAL_NAME, DEFAULT_PROPAGATION_TIMEOUT_MS, DEFAULT_QUERIES } from '../dns/options.js';
import { parseBaseline, toBaseline, type Baseline } from '../doctor/baseline.js';
import { DOCTOR_BUNDLE_ROOT, reportFiles } from '../doctor/bundle.js';
import { captureFailingPaths } from '../doctor/capture.js';
import { runDoctor } from '../doctor/engine.js';
import { doctorEngines } from '../doctor/engines.js';
import { DEFAULT_BW_DURATION, toPlan } from '../doctor/options.js';
import { doctorView } from '../doctor/view.js';
import { writeBundle, type BundleFile } from '../node/bundle.js';
import { keptUploadsFile } from '../sniff/kept-uploads.js';
import { usageError } from '../lib/errors.js';
import { openOwnedFile } from '../lib/owned-output.js';
import { checkFlags, toOptions as checkOptions } from './check.js';
import { toOptions as dnsOptions } from './dns.js';

/** Reads a --baseline file; one that cannot be read or is not a baseline is a usage error naming it. */
function readBaseline(file: string): Baseline {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw usageError(
      `cannot read --baseline ${file}: ${(err as Error).message}`,
      `make one with kubectl netdiag doctor --save-baseline ${file} on a healthy cluster`,
    );
  }
  return parseBaseline(text, file);
}

export default class Doctor extends NetdiagCommand {
  static override summary =
    'The whole runbook in one run — node, dns, check and a short bw — and diagnoses that name the cause.';
  static override description =
    'Runs node on every selected node, dns, check and a short bandwidth measurement in ONE run sharing one set of ' +
    'helper pods (the probing steps side by side, bandwidth alone), then correlation rules turn the findings of all ' +
    'of them into diagnoses: the cause, the nodes or paths involved, the findings that show it and the command to ' +
    'run next (docs/doctor.md). Findings no rule explains are listed as they are. Exit 1 when a diagnosis is an ' +
    'error. Everything created is deleted.';
  static override examples = [
    '<%= config.bin %> doctor --quick',
    '<%= config.bin %> doctor -o html > report.html',
    '<%= config.bin %> doctor --save-baseline good.json',
    '<%= config.bin %> doctor --baseline good.json --quick',
    '<%= config.bin %> doctor --external-name www.example.com --target www.example.com:443 --ping 192.0.2.1',
  ];
  static override flags = {
    ...diagnosticFlags,
    quick: Flags.boolean({ description: 'Skip the bandwidth measurement (the one step that must run alone).' }),
    'bw-duration': Flags.string({
      description: 'How long each pair’s bandwidth is measured (1s to 60s).',
      default: DEFAULT_BW_DURATION,
    }),
    baseline: Flags.string({ description: 'Compare with a baseline saved by --save-baseline: what changed since.' }),
    'save-baseline': Flags.string({ description: 'Save what this run saw to FILE, to compare later runs with.' }),
    'external-name': Flags.string({
      description: `An external name that must resolve from every node (repeatable; default ${DEFAULT_EXTERNAL_NAME}, skipped when it does not resolve).`,
      multiple: true,
    }),
    'capture-failures': Flags.boolean({
      description:
        'Send the probe of each broken path again while capturing at both ends; the pcapng (in the current directory) is attached to its diagnosis.',
    }),
    bundle: Flags.string({
      description: 'Also write FILE.tar.gz: the report in every format, each node’s raw facts and the captures.',
    }),
    target: checkFlags.target,
    url: checkFlags.url,
    ping: checkFlags.ping,
  };

  async run(): Promise<void> {
    const { flags } = await this.parseFlags(Doctor);
    const plan = toPlan(flags);
    const check = checkOptions({
      target: flags.target,
      url: flags.url,
      ping: flags.ping,
      external: false,
      parallel: DEFAULT_PARALLEL,
      'skip-mtu': false,
    });
    const dns = dnsOptions({
      external: flags['external-name'],
      'no-external': false,
      queries: DEFAULT_QUERIES,
      capture: false,
      propagation: false,
      'propagation-timeout': `${DEFAULT_PROPAGATION_TIMEOUT_MS / 1000}s`,
    });
    const baseline =
      plan.baselineFile === undefined ? undefined : { file: plan.baselineFile, saved: readBaseline(plan.baselineFile) };
    // Opened before anything is created: an unwritable path fails first, and a failed run leaves nothing new.
    const bundle = plan.bundleFile === undefined ? undefined : await openOwnedFile(plan.bundleFile);
    const savedBaseline = plan.saveBaselineFile === undefined ? undefined : await openOwnedFile(plan.saveBaselineFile);
    try {
      let files: readonly BundleFile[] = [];
      const result = await this.diagnose(
        flags,
        async (ctx) => {
          const run = await runDoctor(
            ctx,
            {
              quick: plan.quick,
              bwDurationMs: plan.bwDurationMs,
              bundle: bundle !== undefined,
              baseline,
            },
            doctorEngines({ check, dns }),
            plan.captureFailures
              ? (capturing, diagnoses) =>
                  captureFailingPaths(capturing, diagnoses, {
                    dir: process.cwd(),
                    keptUploadsFile: keptUploadsFile(process.env, homedir()),
                  })
              : undefined,
          );
          files = run.files;
          return run.result;
        },
        doctorView,
      );
      if (savedBaseline) {
        savedBaseline.stream.write(`${JSON.stringify(toBaseline(result.findings, new Date()), null, 2)}\n`);
        await savedBaseline.finish();
      }
      const captures = result.data.captures.map((capture) => ({
        name: `${DOCTOR_BUNDLE_ROOT}/${path.basename(capture.file)}`,
        content: readFileSync(capture.file),
      }));
      if (bundle) await writeBundle(bundle, [...reportFiles(result), ...captures, ...files], new Date());
    } catch (err) {
      // No report: a file this run created goes, one that existed keeps every byte it had.
      await bundle?.abandon();
      await savedBaseline?.abandon();
      throw err;
    }
  }
}
