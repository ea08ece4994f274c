import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_BW_DURATION, toPlan, type DoctorFlagValues } from '../../../src/doctor/options.js';
import { NetdiagError } from '../../../src/lib/errors.js';

const defaults: DoctorFlagValues = { quick: false, 'capture-failures': false, 'bw-duration': DEFAULT_BW_DURATION };

describe('toPlan', () => {
  it('defaults: everything runs, bandwidth for 3 s, no files', () =>
    assert.deepEqual(toPlan(defaults), {
      quick: false,
      captureFailures: false,
      baselineFile: undefined,
      saveBaselineFile: undefined,
      bundleFile: undefined,
      bwDurationMs: 3000,
    }));
  it('carries the file flags and switches', () =>
    assert.deepEqual(
      toPlan({
        ...defaults,
        quick: true,
        'capture-failures': true,
        baseline: 'old.json',
        'save-baseline': 'new.json',
        bundle: 'report.tar.gz',
      }),
      {
        quick: true,
        captureFailures: true,
        baselineFile: 'old.json',
        saveBaselineFile: 'new.json',
        bundleFile: 'report.tar.gz',
        bwDurationMs: 3000,
      },
    ));
  for (const [name, flags, message] of [
    ['a bundle that is not .tar.gz', { ...defaults, bundle: 'report.zip' }, /--bundle report\.zip is not a \.tar\.gz/],
    ['a bandwidth duration under 1 s', { ...defaults, 'bw-duration': '500ms' }, /--bw-duration 500ms is out of range/],
    ['a bandwidth duration over 60 s', { ...defaults, 'bw-duration': '2m' }, /--bw-duration 2m is out of range/],
    ['a bandwidth duration in part seconds', { ...defaults, 'bw-duration': '1500ms' }, /--bw-duration 1500ms is out/],
    ['--bw-duration with --quick', { ...defaults, quick: true, 'bw-duration': '5s' }, /--quick skips the bandwidth/],
    ['a duration that is not one', { ...defaults, 'bw-duration': 'soon' }, /invalid value "soon" for --bw-duration/],
  ] as const)
    it(`refuses ${name} (exit 2)`, () =>
      assert.throws(
        () => toPlan(flags),
        (error: unknown) => error instanceof NetdiagError && error.exitCode === 2 && message.test(error.message),
      ));
});
