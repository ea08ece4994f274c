import { type DoctorData, type DoctorResult } from '../../../src/doctor/report.js';

/**
 * A doctor result for the report, schema and bundle tests: nothing diagnosed, no step, no engine's data, no finding —
 * with what a test gives in `data` and `rest` over it.
 */
export const doctorResult = (
  data: Partial<DoctorData> = {},
  rest: Partial<Pick<DoctorResult, 'findings' | 'unavailable'>> = {},
): DoctorResult => ({
  command: 'doctor',
  data: {
    diagnoses: [],
    unexplained: [],
    baseline: null,
    steps: [],
    captures: [],
    node: null,
    dns: null,
    check: null,
    bw: null,
    ...data,
  },
  findings: [],
  unavailable: [],
  ...rest,
});
