/**
 * `doctor --bundle FILE.tar.gz`: what an operator attaches to a ticket — the report in every format, each node's raw
 * facts as the node inspector read them, and the captures. Written through the shared owned-output rules
 * (src/lib/owned-output.ts): opened before the run, so an unwritable path fails before anything is created, and
 * abandoned (nothing left behind that was not there) when the run ends without a report.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import { REPORT_FORMATS, renderResult, type ReportFormat } from '../findings/render/index.js';
import { type OwnedFile } from '../lib/owned-output.js';
import { type NodeRaw } from '../node/engine.js';
import { type DoctorResult } from './report.js';
import { doctorView } from './view.js';

/** One file in the bundle, path relative to its top directory. */
export interface BundleFile {
  readonly path: string;
  readonly content: string | Buffer;
}

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
    path: `report.${EXTENSION[format]}`,
    content: renderResult(format, result, doctorView, { colour: false }),
  }));

/** Each node's raw sections as files: `nodes/<node>/<phase>/<section>.txt` (stderr beside it when any). Pure. */
export function nodeFiles(raw: readonly NodeRaw[]): BundleFile[] {
  const safe = (name: string) => name.replace(/[^A-Za-z0-9._-]+/g, '_');
  return raw.flatMap((node) =>
    (['discovered', 'inspected'] as const).flatMap((phase) =>
      [...node[phase].values()].flatMap((section) => {
        const base = `nodes/${safe(node.node)}/${phase}/${safe(section.name)}`;
        const status = section.status === undefined ? 'cut short' : `exit ${section.status}`;
        return [
          { path: `${base}.txt`, content: section.output },
          ...(section.stderr ? [{ path: `${base}.stderr.txt`, content: `${status}\n${section.stderr}` }] : []),
        ];
      }),
    ),
  );
}

/** Writes `files` under `top/` as a gzipped tar into the owned file and finishes it. */
export async function writeBundle(out: OwnedFile, top: string, files: readonly BundleFile[]): Promise<void> {
  const archive = pack();
  const mtime = new Date();
  // Committed first: the bundle may be larger than what an owned file holds in memory before commit.
  await out.commit();
  const writing = pipeline(Readable.from(archive), createGzip(), out.stream);
  for (const file of files) {
    const content = typeof file.content === 'string' ? Buffer.from(file.content, 'utf8') : file.content;
    archive.entry({ name: `${top}/${file.path}`, mode: 0o644, size: content.length, mtime }, content);
  }
  archive.finalize();
  await writing;
  await out.finish();
}
