import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';

import { parse as parseYaml } from 'yaml';

import { validateManifest } from '../../../scripts/release/lib/krew-validate.js';
import { renderKrewBotTemplate, renderManifest } from '../../../scripts/release/lib/manifest.js';
import { PLATFORMS, archiveName } from '../../../scripts/release/lib/platforms.js';

const repo = new URL('../../../../', import.meta.url);
const template = await readFile(new URL('krew-manifest/netdiag.yaml', repo), 'utf8');
const pkg = JSON.parse(await readFile(new URL('package.json', repo), 'utf8')) as { version: string };

const digests = (version: string, skip: string[] = []): Map<string, string> =>
  new Map(
    PLATFORMS.filter((p) => !skip.includes(`${p.os}/${p.arch}`)).map((p, i) => [
      archiveName(version, p),
      i.toString(16).repeat(64),
    ]),
  );

interface Platform {
  selector: { matchLabels: { os: string; arch: string } };
  uri: string;
  sha256: string;
  bin: string;
}
interface Manifest {
  metadata: { name: string };
  spec: { version: string; caveats: string; platforms: Platform[] };
}

describe('krew manifest rendering', () => {
  it('renders a manifest that passes krew validation, one platform per release target', () => {
    const text = renderManifest(template, { version: 'v1.2.3', baseUrl: 'https://dl.example.org/x/', sha256: digests('v1.2.3') });
    const m = parseYaml(text) as Manifest;
    assert.deepEqual(validateManifest(m, 'netdiag.yaml'), { errors: [], warnings: [] });
    assert.equal(m.spec.version, 'v1.2.3');
    assert.deepEqual(
      m.spec.platforms.map((p) => `${p.selector.matchLabels.os}/${p.selector.matchLabels.arch}`),
      PLATFORMS.map((p) => `${p.os}/${p.arch}`),
    );
    for (const [i, p] of m.spec.platforms.entries()) {
      const target = PLATFORMS[i];
      assert.ok(target);
      assert.equal(p.uri, `https://dl.example.org/x/${archiveName('v1.2.3', target)}`);
      assert.equal(p.sha256, i.toString(16).repeat(64));
      assert.equal(p.bin, target.bin);
    }
    assert.doesNotMatch(text, /^#/m, 'the template header comment is not part of the manifest');
  });

  it('names the RBAC and the image the plugin needs in caveats', () => {
    const m = parseYaml(renderManifest(template, { version: 'v1.2.3', baseUrl: 'https://x', sha256: digests('v1.2.3') })) as Manifest;
    for (const needle of ['pods/ephemeralcontainers', 'pods/exec', 'ghcr.io/kubectl-netdiag/tools:', 'NETDIAG_REGISTRY']) {
      assert.ok(m.spec.caveats.includes(needle), needle);
    }
  });

  it('fails when an archive digest is missing, unless asked for the built platforms only', () => {
    const partial = digests('v1.2.3', ['darwin/arm64']);
    assert.throws(() => renderManifest(template, { version: 'v1.2.3', baseUrl: 'https://x', sha256: partial }), /darwin_arm64/);
    const m = parseYaml(
      renderManifest(template, { version: 'v1.2.3', baseUrl: 'https://x', sha256: partial, onlyBuilt: true }),
    ) as Manifest;
    assert.equal(m.spec.platforms.length, PLATFORMS.length - 1);
    assert.deepEqual(validateManifest(m, 'netdiag.yaml').errors, []);
  });

  it('rejects versions krew would reject', () => {
    assert.throws(() => renderManifest(template, { version: '1.2.3', baseUrl: 'https://x', sha256: digests('1.2.3') }), /semver/);
  });

  it('renders the krew-release-bot template with {{ .TagName }} and addURIAndSha per platform', () => {
    const bot = renderKrewBotTemplate(template, {
      releaseDownloadBase: 'https://github.com/kubectl-netdiag/kubectl-netdiag/releases/download/${VERSION}',
    });
    assert.match(bot, /^ {2}version: \{\{ \.TagName \}\}$/m);
    const calls = bot.match(/^ {6}\{\{addURIAndSha "https:\/\/github\.com\/[^"]+\/download\/\{\{ \.TagName \}\}\/kubectl-netdiag_\{\{ \.TagName \}\}_(\w+)_(\w+)\.tar\.gz" \.TagName \}\}$/gm);
    assert.equal(calls?.length, PLATFORMS.length);
    assert.doesNotMatch(bot, /sha256:|uri:/);
  });
});

describe('committed manifests', () => {
  it('.krew.yaml is the rendering of krew-manifest/netdiag.yaml', async () => {
    const committed = await readFile(new URL('.krew.yaml', repo), 'utf8');
    const rendered = renderKrewBotTemplate(template, {
      releaseDownloadBase: 'https://github.com/kubectl-netdiag/kubectl-netdiag/releases/download/${VERSION}',
    });
    assert.equal(committed, rendered);
  });

  it('plugin.yaml is the rendering of krew-manifest/netdiag.yaml (rerun the release after editing the template)', async () => {
    const committed = await readFile(new URL('plugin.yaml', repo), 'utf8');
    const m = parseYaml(committed) as Manifest;
    const first = m.spec.platforms[0];
    assert.ok(first);
    const rendered = renderManifest(template, {
      version: m.spec.version,
      baseUrl: first.uri.slice(0, first.uri.lastIndexOf('/')),
      sha256: new Map(m.spec.platforms.map((p) => [p.uri.split('/').pop() ?? '', p.sha256])),
    });
    assert.equal(committed, rendered);
  });

  it('plugin.yaml is a valid manifest of the package version for all five platforms', async () => {
    const m = parseYaml(await readFile(new URL('plugin.yaml', repo), 'utf8')) as Manifest;
    assert.deepEqual(validateManifest(m, `${m.metadata.name}.yaml`), { errors: [], warnings: [] });
    assert.equal(m.metadata.name, 'netdiag');
    assert.equal(m.spec.version, `v${pkg.version}`);
    assert.equal(m.spec.platforms.length, PLATFORMS.length);
    for (const p of m.spec.platforms) assert.ok(p.uri.endsWith(`/v${pkg.version}/${p.uri.split('/').pop()}`), p.uri);
  });
});
