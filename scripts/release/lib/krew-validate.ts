import { posix } from 'node:path';

import { SEMVER_V } from './manifest.js';

/**
 * krew's manifest rules (sigs.k8s.io/krew v0.5.0: pkg/index/validation ValidatePlugin and
 * cmd/validate-krew-manifest), re-stated so they run in unit tests without krew, plus two rules of ours:
 * every archive holds its `bin`, and a Windows `bin` is a real `.exe` (krew links it as kubectl-netdiag.exe).
 * The end-to-end test also runs krew's own validate-krew-manifest over the real archives.
 */

export const API_VERSION = 'krew.googlecontainertools.github.com/v1alpha2';
export const KIND = 'Plugin';

/** <os, arch> pairs krew installs on (validate-krew-manifest allPlatforms). */
export const KREW_PLATFORMS: ReadonlyArray<readonly [string, string]> = [
  ['windows', '386'],
  ['windows', 'amd64'],
  ['windows', 'arm64'],
  ['linux', '386'],
  ['linux', 'amd64'],
  ['linux', 'arm'],
  ['linux', 'arm64'],
  ['linux', 'ppc64le'],
  ['darwin', '386'],
  ['darwin', 'amd64'],
  ['darwin', 'arm64'],
];

const WINDOWS_RESERVED = new Set(
  ['CON', 'PRN', 'AUX', 'NUL', ...[1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((n) => [`COM${n}`, `LPT${n}`])].map((s) =>
    s.toLowerCase(),
  ),
);
const LICENSE_FILES = new Set([
  'license',
  'license.txt',
  'license.md',
  'licenses',
  'licenses.txt',
  'licenses.md',
  'copying',
  'copying.txt',
]);
const SHA256 = /^[a-f0-9]{64}$/;

interface Requirement {
  key?: unknown;
  operator?: unknown;
  values?: unknown;
}
interface Selector {
  matchLabels?: Record<string, unknown> | null;
  matchExpressions?: Requirement[] | null;
}
interface PlatformSpec {
  selector?: Selector | null;
  uri?: unknown;
  sha256?: unknown;
  bin?: unknown;
  files?: Array<{ from?: unknown; to?: unknown }> | null;
}

export interface ValidationResult {
  readonly errors: string[];
  /** krew prints these but accepts the manifest (line lengths). */
  readonly warnings: string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v !== '';

export function isSafePluginName(name: string): boolean {
  return /^[\w-]+$/.test(name) && !WINDOWS_RESERVED.has(name.toLowerCase());
}

/** Label-selector matching for the labels {os, arch} (metav1.LabelSelectorAsSelector semantics). */
export function selectorMatches(sel: Selector, os: string, arch: string): boolean {
  const labels: Record<string, string> = { os, arch };
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const r of sel.matchExpressions ?? []) {
    const value = labels[String(r.key)];
    const values = Array.isArray(r.values) ? r.values.map(String) : [];
    switch (r.operator) {
      case 'In':
        if (value === undefined || !values.includes(value)) return false;
        break;
      case 'NotIn':
        if (value !== undefined && values.includes(value)) return false;
        break;
      case 'Exists':
        if (value === undefined) return false;
        break;
      case 'DoesNotExist':
        if (value !== undefined) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function selectorErrors(sel: Selector | null | undefined): string[] {
  if (sel === null || sel === undefined) return ['nil selector is not supported'];
  const labels = sel.matchLabels;
  const exprs = sel.matchExpressions;
  if ((labels === null || labels === undefined) && (exprs ?? []).length === 0) return ['empty selector is not supported'];
  const keys = [...Object.keys(labels ?? {}), ...(exprs ?? []).map((e) => String(e.key))];
  const bad = keys.filter((k) => k !== 'os' && k !== 'arch');
  if (bad.length > 0) return bad.map((k) => `selector key "${k}" not supported (only os and arch)`);
  if (labels !== null && labels !== undefined && Object.keys(labels).length === 0) {
    return ['`matchLabels` specified but empty'];
  }
  if (exprs !== null && exprs !== undefined && exprs.length === 0) return ['`matchExpressions` specified but empty'];
  for (const e of exprs ?? []) {
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(String(e.operator))) {
      return [`selector operator "${String(e.operator)}" is not valid`];
    }
  }
  return [];
}

function platformErrors(p: PlatformSpec): string[] {
  if (!nonEmptyString(p.uri)) return ['`uri` has to be set'];
  if (!nonEmptyString(p.sha256)) return ['`sha256` sum has to be set'];
  if (!SHA256.test(p.sha256)) return [`\`sha256\` value ${p.sha256} is not valid, must be 64 lowercase hex digits`];
  if (!nonEmptyString(p.bin)) return ['`bin` has to be set'];
  if (p.files !== undefined && p.files !== null) {
    if (p.files.length === 0) return ['`files` has to be unspecified or non-empty'];
    for (const f of p.files) {
      if (!nonEmptyString(f.from)) return ['`files`: `from` field has to be set'];
      if (!nonEmptyString(f.to)) return ['`files`: `to` field has to be set'];
    }
  }
  const sel = selectorErrors(p.selector);
  if (sel.length > 0) return sel.map((e) => `invalid platform selector: ${e}`);
  return [];
}

function lineLengthOk(s: unknown, max: number): boolean {
  if (typeof s !== 'string') return true;
  return s.split('\n').every((line) => line.length <= max || !line.trim().includes(' '));
}

/**
 * Validates a parsed manifest the way `validate-krew-manifest -manifest <fileName>` does before it installs.
 * `fileName` is the manifest's file name (krew requires `<plugin name>.yaml`).
 */
export function validateManifest(manifest: unknown, fileName: string): ValidationResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  const fail = (e: string): ValidationResult => ({ errors: [...errors, e], warnings });
  if (!isRecord(manifest)) return fail('manifest is not a YAML mapping');
  if (posix.extname(fileName) !== '.yaml') return fail(`expected manifest extension ".yaml", found "${posix.extname(fileName)}"`);
  const nameFromFile = posix.basename(fileName, '.yaml');
  if (manifest.apiVersion !== API_VERSION) return fail(`apiVersion "${String(manifest.apiVersion)}" is not ${API_VERSION}`);
  if (manifest.kind !== KIND) return fail(`kind "${String(manifest.kind)}" is not ${KIND}`);
  if (!isSafePluginName(nameFromFile)) return fail(`the plugin name "${nameFromFile}" is not allowed`);
  const name = isRecord(manifest.metadata) ? manifest.metadata.name : undefined;
  if (name !== nameFromFile) return fail(`plugin should be named "${nameFromFile}" (its file name), not "${String(name)}"`);
  const spec = isRecord(manifest.spec) ? manifest.spec : {};
  if (!nonEmptyString(spec.shortDescription)) return fail('should have a short description');
  if (/[\r\n]/.test(spec.shortDescription)) return fail('should not have line breaks in short description');
  const platforms = Array.isArray(spec.platforms) ? (spec.platforms as PlatformSpec[]) : [];
  if (platforms.length === 0) return fail('should have a platform specified');
  if (!nonEmptyString(spec.version)) return fail('should have a version specified');
  if (!SEMVER_V.test(spec.version)) return fail(`version "${spec.version}" is not semver starting with "v"`);
  platforms.forEach((p, i) => {
    for (const e of platformErrors(p)) errors.push(`spec.platforms[${i}]: ${e}`);
  });
  if (errors.length > 0) return { errors, warnings };

  if (!lineLengthOk(spec.description, 80)) warnings.push('line length in `description` exceeds 80 characters');
  if (!lineLengthOk(spec.shortDescription, 70)) warnings.push('line length in `shortDescription` exceeds 70 characters');
  if (!lineLengthOk(spec.caveats, 80)) warnings.push('line length in `caveats` exceeds 80 characters');

  platforms.forEach((p, i) => {
    const selector = p.selector as Selector;
    if (!KREW_PLATFORMS.some(([os, arch]) => selectorMatches(selector, os, arch))) {
      errors.push(`spec.platforms[${i}]: selector doesn't match any supported platform`);
    }
    const windowsOnly = KREW_PLATFORMS.every(([os, arch]) => !selectorMatches(selector, os, arch) || os === 'windows');
    if (windowsOnly && !String(p.bin).toLowerCase().endsWith('.exe')) {
      errors.push(`spec.platforms[${i}]: a Windows bin must be an .exe (krew links it as kubectl-${name}.exe)`);
    }
  });
  for (const [os, arch] of KREW_PLATFORMS) {
    const matching = platforms.flatMap((p, i) => (selectorMatches(p.selector as Selector, os, arch) ? [i] : []));
    if (matching.length > 1) errors.push(`platforms ${matching.join(', ')} have overlapping selectors for ${os}/${arch}`);
  }
  return { errors, warnings };
}

/**
 * What krew checks after installing one platform's archive (no `files`: the whole archive is installed):
 * the archive has the `bin` and a LICENSE-like file.
 */
export function validateArchiveEntries(entries: readonly string[], bin: string): string[] {
  const files = entries.filter((e) => !e.endsWith('/')).map((e) => e.replace(/^\.\//, ''));
  const errors: string[] = [];
  if (!files.includes(bin)) errors.push(`archive has no ${bin} (entries: ${files.join(', ')})`);
  if (!files.some((f) => LICENSE_FILES.has(posix.basename(f).toLowerCase()))) {
    errors.push(`archive has no LICENSE file (entries: ${files.join(', ')})`);
  }
  return errors;
}
