/**
 * `doctor --bundle FILE.tar.gz`: what an operator attaches to a ticket — the report in every format under
 * `netdiag-doctor/`, and beside it what `node --bundle` writes (each node's raw facts, credentials redacted) under its
 * own folder. Written with node's bundle writer through the owned-output rules.
 */
import { REPORT_FORMATS, renderResult, type ReportFormat } from '../findings/render/index.js';
import { type BundleFile } from '../node/bundle.js';
import { type DoctorResult } from './report.js';
import { doctorView } from './view.js';

export const DOCTOR_BUNDLE_ROOT = 'netdiag-doctor';

const EXTENSION: Readonly<Record<ReportFormat, string>> = {
  table: 'txt',
  wide: 'wide.txt',
  json: 'json',
  yaml: 'yaml',
  markdown: 'md',
  html: 'html',
  junit: 'junit.xml',
};

/** The report in every `-o` format. Pure. */
export const reportFiles = (result: DoctorResult): BundleFile[] =>
  REPORT_FORMATS.map((format) => ({
    name: `${DOCTOR_BUNDLE_ROOT}/report.${EXTENSION[format]}`,
    content: renderResult(format, result, doctorView, { colour: false }),
  }));
