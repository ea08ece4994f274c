import { posix } from 'node:path';

import { parseDocument, isMap, isSeq } from 'yaml';

/**
 * Renders krew-manifest/netdiag.yaml (a text template, so comments and layout of the result stay readable).
 * The template's header comment is dropped; `${VERSION}`, `${BASE_URL}` and `${SHA256}` are the placeholders.
 */

export const SEMVER_V = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

function body(template: string): string[] {
  const lines = template.replace(/\r\n/g, '\n').split('\n');
  const first = lines.findIndex((l) => l.trim() !== '' && !l.startsWith('#'));
  return first < 0 ? [] : lines.slice(first);
}

const URI = /^(\s*)(-\s+)?uri:\s*(.+?)\s*$/;
const SHA = /^(\s*)sha256:\s*(['"])\$\{SHA256\}\2\s*$/;

/**
 * The manifest for one release. `sha256` maps archive file names (the last path segment of each uri) to their
 * digests; every platform's archive must have one.
 */
export function renderManifest(
  template: string,
  options: {
    version: string;
    baseUrl: string;
    sha256: ReadonlyMap<string, string>;
    /** Leave out the platforms whose archive has no digest (a partial build) instead of failing. */
    onlyBuilt?: boolean;
  },
): string {
  if (!SEMVER_V.test(options.version)) throw new Error(`version "${options.version}" is not v-prefixed semver`);
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  let lastArchive: string | undefined;
  const out = body(template).map((raw) => {
    const line = raw.replaceAll('${VERSION}', options.version).replaceAll('${BASE_URL}', baseUrl);
    const uri = URI.exec(line);
    if (uri) lastArchive = posix.basename(new URL(uri[3] ?? '').pathname);
    if (!SHA.test(line)) return line;
    if (lastArchive === undefined) throw new Error('template: sha256 placeholder before any uri');
    const digest = options.sha256.get(lastArchive) ?? (options.onlyBuilt ? NOT_BUILT : undefined);
    if (digest === undefined) throw new Error(`no sha256 for ${lastArchive} (archive not built?)`);
    return line.replace('${SHA256}', digest);
  });
  if (out.some((l) => l.includes('${'))) throw new Error('template: unknown placeholder left after rendering');
  const text = out.join('\n');
  return options.onlyBuilt ? withoutUnbuiltPlatforms(text) : text;
}

const NOT_BUILT = 'not-built';

function withoutUnbuiltPlatforms(text: string): string {
  const doc = parseDocument(text);
  const platforms = doc.getIn(['spec', 'platforms']);
  if (!isSeq(platforms)) throw new Error('template: spec.platforms is not a list');
  platforms.items = platforms.items.filter((item) => !(isMap(item) && item.get('sha256') === NOT_BUILT));
  if (platforms.items.length === 0) throw new Error('no platform was built');
  return doc.toString({ lineWidth: 0 });
}

/**
 * The krew-release-bot template (.krew.yaml): the bot fills `{{ .TagName }}` and replaces each
 * `{{addURIAndSha "<url>" .TagName }}` with the uri and sha256 of the archive it downloads from that url.
 */
export function renderKrewBotTemplate(template: string, options: { releaseDownloadBase: string }): string {
  const tag = '{{ .TagName }}';
  const base = options.releaseDownloadBase.replace(/\/+$/, '').replaceAll('${VERSION}', tag);
  const lines = body(template).map((l) => l.replaceAll('${VERSION}', tag).replaceAll('${BASE_URL}', base));
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const uri = URI.exec(line);
    const next = lines[i + 1] ?? '';
    if (uri && SHA.test(next)) {
      out.push(`${uri[1] ?? ''}${uri[2] ?? ''}{{addURIAndSha "${uri[3]}" .TagName }}`);
      i++;
      continue;
    }
    out.push(line);
  }
  if (out.some((l) => l.includes('${'))) throw new Error('template: unknown placeholder left after rendering');
  return out.join('\n');
}
