import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { immediateByDefault, type OutputSpec } from '../../../src/sniff/outputs.js';

const file: OutputSpec = { kind: 'file', path: 'out.pcap' };
const stdout: OutputSpec = { kind: 'stdout' };
const viewer: OutputSpec = { kind: 'viewer', viewer: 'tshark', binary: '/usr/bin/tshark', title: 'pod', args: [] };

describe('immediateByDefault', () => {
  it('is on when something reads the capture live: a viewer, or a pipe or terminal on stdout', () => {
    assert.equal(immediateByDefault([viewer], 'terminal'), true);
    assert.equal(immediateByDefault([file, viewer], 'file'), true);
    assert.equal(immediateByDefault([stdout], 'pipe'), true);
    assert.equal(immediateByDefault([stdout], 'terminal'), true);
  });

  it('is off when the capture only goes to files (stdout redirected to a file included)', () => {
    assert.equal(immediateByDefault([file], 'pipe'), false);
    assert.equal(immediateByDefault([stdout], 'file'), false);
  });
});
