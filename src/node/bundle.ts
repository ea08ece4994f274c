/**
 * `node --bundle FILE.tar.gz`: everything read on every node, raw, one file per command, for a support ticket (the
 * way Retina keeps a node's network state beside a capture) — plus the result as JSON. Credentials never go in: CNI
 * configs and daemon configs (a containerd config can hold registry passwords) are redacted.
 */
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import type { OwnedFile } from '../lib/owned-output.js';
import type { NodeRun } from './engine.js';
import { parseCniFile, redactConfigText } from './parse.js';
import type { Section, Sections } from './sections.js';

export interface BundleFile {
  /** Path inside the archive (`netdiag-node/worker1.kube.local/ip-addr.json`). */
  readonly name: string;
  readonly content: string;
}

/** What writeBundle takes: a bundle file, or bytes (doctor adds its captures). */
export interface ArchiveFile {
  readonly name: string;
  readonly content: string | Buffer;
}

export const BUNDLE_ROOT = 'netdiag-node';

/** Where a section goes in the node's folder; undefined leaves it out (nothing in this list holds secrets raw). */
function fileName(section: string, comms: ReadonlyMap<string, string>): string | undefined {
  const fixed: Readonly<Record<string, string>> = {
    netns: 'netns.txt',
    uname: 'uname.txt',
    'ip-addr': 'ip-addr.json',
    'ip-route': 'ip-route.json',
    'ip-rule': 'ip-rule.json',
    'ip-neigh': 'ip-neigh.json',
    sysctl: 'sysctl.txt',
    'sysctl-all': 'sysctl-all.txt',
    'conntrack-stats': 'conntrack-stats.txt',
    counters: 'counters.txt',
    'kube-proxy-mode': 'kube-proxy/proxyMode.txt',
    'kube-proxy-healthz': 'kube-proxy/healthz.json',
    'kube-proxy-nft-services': 'kube-proxy/nft-maps.txt',
    'kube-ipvs0': 'kube-proxy/kube-ipvs0.json',
    ss: 'ss-s.txt',
    'crictl-version': 'runtime/crictl-version.txt',
    'crictl-ps': 'runtime/crictl-ps.json',
    'containerd-tasks': 'runtime/containerd-tasks.jsonl',
  };
  if (fixed[section]) return fixed[section];
  const [kind, ...rest] = section.split(' ');
  const key = rest.join(' ');
  const safe = (text: string) => text.replace(/^\/+/, '').replace(/[^A-Za-z0-9._-]+/g, '_');
  switch (kind) {
    case 'cni-file':
      return `cni/net.d/${safe(key)}`;
    case 'cni-bin':
      return `cni/bin/${safe(key)}.txt`;
    case 'process': {
      const [pid, comm] = key.split(' ');
      return `processes/${safe(comm ?? '')}-${pid}.argv.txt`;
    }
    case 'file': {
      const [pid, ...path] = key.split(' ');
      return `processes/${safe(comms.get(pid ?? '') ?? 'process')}-${pid}.config/${safe(path.join(' '))}`;
    }
    case 'inspect':
      return `runtime/inspect-${safe(key)}.json`;
    default:
      return undefined;
  }
}

/** A section's content as stored: CNI configs and daemon config files redacted, the rest as printed. */
function stored(section: Section): string {
  const [kind, ...rest] = section.name.split(' ');
  if (kind === 'cni-file') return parseCniFile(rest.join(' '), section.output).redacted;
  if (kind === 'file') return redactConfigText(section.output);
  return section.output;
}

function sectionFiles(folder: string, sections: Sections, comms: ReadonlyMap<string, string>): BundleFile[] {
  const files: BundleFile[] = [];
  for (const section of sections.values()) {
    const name = fileName(section.name, comms);
    if (!name) continue;
    files.push({ name: `${folder}/${name}`, content: stored(section) });
    if (section.stderr) files.push({ name: `${folder}/${name}.stderr`, content: section.stderr });
    if (section.status !== 0 && section.status !== undefined)
      files.push({ name: `${folder}/${name}.exit-status`, content: `${section.status}\n` });
  }
  return files;
}

/** Every file of the bundle. Pure. */
export function bundleFiles(run: NodeRun): BundleFile[] {
  const files: BundleFile[] = [
    { name: `${BUNDLE_ROOT}/result.json`, content: `${JSON.stringify(run.result, null, 2)}\n` },
  ];
  for (const raw of run.raw) {
    const folder = `${BUNDLE_ROOT}/${raw.node.replace(/[^A-Za-z0-9._-]+/g, '_')}`;
    const comms = new Map<string, string>();
    for (const name of raw.discovered.keys()) {
      const match = /^process (\d+) (\S+)$/.exec(name);
      if (match) comms.set(match[1] ?? '', match[2] ?? '');
    }
    files.push(...sectionFiles(folder, raw.discovered, comms), ...sectionFiles(folder, raw.inspected, comms));
  }
  return files;
}

/**
 * Writes the bundle as a gzipped tar into `output` (an owned file: an existing one is replaced only once the content
 * is ready, and keeps its bytes if writing fails). The files are in memory already, so they go in at once.
 */
export async function writeBundle(output: OwnedFile, files: readonly ArchiveFile[], mtime: Date): Promise<void> {
  const archive = pack();
  const written = pipeline(archive, createGzip(), output.stream);
  await output.commit();
  for (const file of files) archive.entry({ name: file.name, mtime, mode: 0o644 }, file.content);
  archive.finalize();
  await written;
}
