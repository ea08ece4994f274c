import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  keptUploadsFile,
  parseKeptUploads,
  readKeptUploads,
  rememberIn,
  rememberUpload,
  type KeptUpload,
} from '../../../src/sniff/kept-uploads.js';

const now = new Date('2026-12-02T12:00:00Z');
const entry = (pod: string, keptUntil = '2026-12-02T12:10:00Z'): KeptUpload => ({
  context: 'lab',
  namespace: 'ns',
  pod,
  container: 'main',
  dir: '/tmp/netdiag-tcpdump',
  keptUntil,
});

describe('keptUploadsFile', () => {
  it('lives in the XDG state directory, else ~/.local/state', () => {
    assert.equal(keptUploadsFile({ XDG_STATE_HOME: '/s' }, '/home/u'), '/s/kubectl-netdiag/uploads.json');
    assert.equal(keptUploadsFile({}, '/home/u'), '/home/u/.local/state/kubectl-netdiag/uploads.json');
  });
});

describe('rememberIn', () => {
  it('replaces the entry of the same container and drops expired ones', () => {
    const list = [entry('a'), entry('b', '2026-12-02T11:59:00Z'), entry('c')];
    const updated = rememberIn(list, entry('a', '2026-12-02T12:20:00Z'), now);
    assert.deepEqual(
      updated.map((e) => [e.pod, e.keptUntil]),
      [
        ['c', '2026-12-02T12:10:00Z'],
        ['a', '2026-12-02T12:20:00Z'],
      ],
    );
  });
});

describe('parseKeptUploads', () => {
  it('keeps well-formed entries of netdiag-tcpdump directories only', () => {
    const text = JSON.stringify([entry('a'), { ...entry('b'), dir: '/' }, { pod: 'c' }, 'x']);
    assert.deepEqual(parseKeptUploads(text), [entry('a')]);
  });

  it('reads anything that is not a list of entries as none', () => {
    assert.deepEqual(parseKeptUploads('not json'), []);
    assert.deepEqual(parseKeptUploads('{"a":1}'), []);
  });
});

describe('rememberUpload', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-kept-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the file and its directory, then updates it', async () => {
    const file = path.join(dir, 'state', 'kubectl-netdiag', 'uploads.json');
    await rememberUpload(file, entry('a'), now);
    await rememberUpload(file, entry('b'), now);
    assert.deepEqual(
      (await readKeptUploads(file)).map((e) => e.pod),
      ['a', 'b'],
    );
    assert.ok(readFileSync(file, 'utf8').endsWith('\n'));
  });
});
