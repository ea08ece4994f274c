import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  isSafePluginName,
  selectorMatches,
  validateArchiveEntries,
  validateManifest,
} from '../../../scripts/release/lib/krew-validate.js';

const SHA = 'a'.repeat(64);

type Json = Record<string, unknown>;

function platform(os: string, arch: string, extra: Json = {}): Json {
  return {
    selector: { matchLabels: { os, arch } },
    uri: `https://example.org/v0.1.0/kubectl-netdiag_v0.1.0_${os}_${arch}.tar.gz`,
    sha256: SHA,
    bin: os === 'windows' ? 'kubectl-netdiag.exe' : 'kubectl-netdiag',
    ...extra,
  };
}

function manifest(overrides: { metadata?: Json; spec?: Json; top?: Json } = {}): Json {
  return {
    apiVersion: 'krew.googlecontainertools.github.com/v1alpha2',
    kind: 'Plugin',
    metadata: { name: 'netdiag', ...overrides.metadata },
    spec: {
      version: 'v0.1.0',
      shortDescription: 'Diagnose networking',
      description: 'Diagnoses networking.',
      platforms: [
        platform('linux', 'amd64'),
        platform('linux', 'arm64'),
        platform('darwin', 'amd64'),
        platform('darwin', 'arm64'),
        platform('windows', 'amd64'),
      ],
      ...overrides.spec,
    },
    ...overrides.top,
  };
}

const errorsOf = (m: Json, file = 'netdiag.yaml'): string[] => validateManifest(m, file).errors;

describe('krew manifest validation', () => {
  it('accepts a well-formed five-platform manifest without warnings', () => {
    assert.deepEqual(validateManifest(manifest(), 'netdiag.yaml'), { errors: [], warnings: [] });
  });

  it('requires the plugin name to equal the file name, with a .yaml extension', () => {
    assert.match(errorsOf(manifest(), 'plugin.yaml').join(), /should be named "plugin"/);
    assert.match(errorsOf(manifest(), 'netdiag.yml').join(), /extension/);
    assert.match(errorsOf(manifest({ metadata: { name: 'other' } })).join(), /should be named "netdiag"/);
  });

  it('rejects unsafe and Windows-reserved plugin names', () => {
    assert.equal(isSafePluginName('net-diag_2'), true);
    assert.equal(isSafePluginName('net.diag'), false);
    assert.equal(isSafePluginName('con'), false);
    assert.equal(isSafePluginName('LPT3'), false);
  });

  it('checks apiVersion, kind, short description and version', () => {
    assert.match(errorsOf(manifest({ top: { apiVersion: 'krew.googlecontainertools.github.com/v1alpha1' } })).join(), /apiVersion/);
    assert.match(errorsOf(manifest({ top: { kind: 'Pod' } })).join(), /kind/);
    assert.match(errorsOf(manifest({ spec: { shortDescription: '' } })).join(), /short description/);
    assert.match(errorsOf(manifest({ spec: { shortDescription: 'two\nlines' } })).join(), /line breaks/);
    assert.match(errorsOf(manifest({ spec: { version: '0.1.0' } })).join(), /semver starting with "v"/);
    assert.match(errorsOf(manifest({ spec: { version: 'v0.1' } })).join(), /semver/);
    assert.deepEqual(errorsOf(manifest({ spec: { version: 'v1.2.3-rc.1+build.5' } })), []);
  });

  it('requires a 64-digit lowercase hex sha256', () => {
    for (const sha256 of ['A'.repeat(64), 'a'.repeat(63), 'g'.repeat(64), '']) {
      const m = manifest({ spec: { platforms: [platform('linux', 'amd64', { sha256 })] } });
      assert.match(errorsOf(m).join(), /sha256/, sha256);
    }
  });

  it('requires uri and bin, and non-empty files entries when files is given', () => {
    assert.match(errorsOf(manifest({ spec: { platforms: [platform('linux', 'amd64', { uri: '' })] } })).join(), /uri/);
    assert.match(errorsOf(manifest({ spec: { platforms: [platform('linux', 'amd64', { bin: '' })] } })).join(), /bin/);
    assert.match(errorsOf(manifest({ spec: { platforms: [platform('linux', 'amd64', { files: [] })] } })).join(), /files/);
    const noTo = platform('linux', 'amd64', { files: [{ from: 'kubectl-netdiag' }] });
    assert.match(errorsOf(manifest({ spec: { platforms: [noTo] } })).join(), /`to`/);
  });

  it('allows only os and arch in selectors, and no empty selectors', () => {
    const extraKey = platform('linux', 'amd64', { selector: { matchLabels: { os: 'linux', arch: 'amd64', distro: 'x' } } });
    assert.match(errorsOf(manifest({ spec: { platforms: [extraKey] } })).join(), /"distro" not supported/);
    const exprKey = platform('linux', 'amd64', {
      selector: { matchExpressions: [{ key: 'kernel', operator: 'In', values: ['6'] }] },
    });
    assert.match(errorsOf(manifest({ spec: { platforms: [exprKey] } })).join(), /"kernel" not supported/);
    const empty = platform('linux', 'amd64', { selector: { matchLabels: {} } });
    assert.match(errorsOf(manifest({ spec: { platforms: [empty] } })).join(), /empty/);
    const none = platform('linux', 'amd64', { selector: null });
    assert.match(errorsOf(manifest({ spec: { platforms: [none] } })).join(), /nil selector/);
  });

  it('rejects a selector that matches no platform krew supports', () => {
    const plan9 = platform('plan9', 'amd64');
    assert.match(errorsOf(manifest({ spec: { platforms: [plan9] } })).join(), /doesn't match any supported platform/);
  });

  it('rejects overlapping selectors', () => {
    const linuxAny = platform('linux', 'amd64', { selector: { matchLabels: { os: 'linux' } } });
    const errors = errorsOf(manifest({ spec: { platforms: [platform('linux', 'arm64'), linuxAny] } }));
    assert.match(errors.join(), /overlapping selectors for linux\/arm64/);
    const expr = platform('darwin', 'amd64', {
      selector: { matchExpressions: [{ key: 'os', operator: 'In', values: ['darwin', 'linux'] }] },
    });
    assert.match(errorsOf(manifest({ spec: { platforms: [platform('linux', 'amd64'), expr] } })).join(), /overlapping/);
  });

  it('requires a real .exe for Windows', () => {
    const bad = platform('windows', 'amd64', { bin: 'kubectl-netdiag' });
    assert.match(errorsOf(manifest({ spec: { platforms: [bad] } })).join(), /\.exe/);
  });

  it('warns (as krew does) about long lines', () => {
    const long = 'word '.repeat(20);
    const result = validateManifest(manifest({ spec: { caveats: long, shortDescription: 'x '.repeat(40) } }), 'netdiag.yaml');
    assert.deepEqual(result.errors, []);
    assert.equal(result.warnings.length, 2);
  });

  it('matches label selectors like Kubernetes does', () => {
    assert.equal(selectorMatches({ matchLabels: { os: 'linux' } }, 'linux', 'arm64'), true);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'arch', operator: 'NotIn', values: ['amd64'] }] }, 'linux', 'amd64'), false);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'os', operator: 'Exists' }] }, 'darwin', 'arm64'), true);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'os', operator: 'DoesNotExist' }] }, 'darwin', 'arm64'), false);
  });

  it('requires the bin and a LICENSE file in every archive', () => {
    assert.deepEqual(validateArchiveEntries(['LICENSE', 'kubectl-netdiag'], 'kubectl-netdiag'), []);
    assert.deepEqual(validateArchiveEntries(['./license.txt', './kubectl-netdiag.exe'], 'kubectl-netdiag.exe'), []);
    assert.match(validateArchiveEntries(['kubectl-netdiag'], 'kubectl-netdiag').join(), /no LICENSE/);
    assert.match(validateArchiveEntries(['LICENSE', 'kubectl-netdiag'], 'kubectl-netdiag.exe').join(), /no kubectl-netdiag.exe/);
    assert.match(validateArchiveEntries(['LICENSE/', 'kubectl-netdiag'], 'kubectl-netdiag').join(), /no LICENSE/);
  });
});
