import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  DEFAULT_TOOLS_IMAGE,
  configFilePath,
  loadFileConfig,
  resolveToolsImage,
  withRegistry,
} from '../../../src/lib/config.js';

describe('tools image configuration', () => {
  it('has one precedence: flag, NETDIAG_TOOLS_IMAGE, NETDIAG_REGISTRY, file image, file registry, default', () => {
    const file = { toolsImage: 'file.local/tools:1', registry: 'file-registry.local' };
    assert.equal(resolveToolsImage('flag/img:1', { NETDIAG_TOOLS_IMAGE: 'env/img:1' }, file), 'flag/img:1');
    assert.equal(
      resolveToolsImage(undefined, { NETDIAG_TOOLS_IMAGE: 'env/img:1', NETDIAG_REGISTRY: 'r.local' }, file),
      'env/img:1',
    );
    assert.equal(
      resolveToolsImage(undefined, { NETDIAG_REGISTRY: 'mirror.local:5000' }, file),
      'mirror.local:5000/kubectl-netdiag/tools:0.1.0',
    );
    assert.equal(resolveToolsImage(undefined, {}, file), 'file.local/tools:1');
    assert.equal(
      resolveToolsImage(undefined, {}, { registry: 'file-registry.local/' }),
      'file-registry.local/kubectl-netdiag/tools:0.1.0',
    );
    assert.equal(resolveToolsImage(undefined, {}, {}), DEFAULT_TOOLS_IMAGE);
  });
  it('replaces only the registry part', () => {
    assert.equal(withRegistry('ghcr.io/a/b:1', 'm.local/prefix'), 'm.local/prefix/a/b:1');
  });
  it('reads the config file, treats a missing one as empty and rejects bad values', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-config-'));
    assert.deepEqual(loadFileConfig(path.join(dir, 'missing.yaml')), {});
    const good = path.join(dir, 'good.yaml');
    writeFileSync(good, 'registry: mirror.local\n');
    assert.deepEqual(loadFileConfig(good), { registry: 'mirror.local' });
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'registry: 5\n');
    assert.throws(() => loadFileConfig(bad), /registry must be a non-empty string/);
  });
  it('finds the config file via NETDIAG_CONFIG, XDG_CONFIG_HOME or ~/.config', () => {
    assert.equal(configFilePath({ NETDIAG_CONFIG: '/x.yaml' }, '/home/u'), '/x.yaml');
    assert.equal(configFilePath({ XDG_CONFIG_HOME: '/xdg' }, '/home/u'), '/xdg/kubectl-netdiag/config.yaml');
    assert.equal(configFilePath({}, '/home/u'), '/home/u/.config/kubectl-netdiag/config.yaml');
  });
});
