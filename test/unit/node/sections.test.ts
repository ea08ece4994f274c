import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { okOutput, parseSections, sectionsNamed } from '../../../src/node/sections.js';

describe('parseSections', () => {
  it('gives each command its exact output, status and stderr', () => {
    const text = [
      '@@netdiag:begin a',
      'line 1',
      'line 2',
      '',
      '@@netdiag:end a 0',
      '@@netdiag:begin b c',
      'no newline at the end',
      '@@netdiag:end b c 1',
      '@@netdiag:begin b c!stderr',
      'b: oops',
      '@@netdiag:end b c!stderr 0',
      '@@netdiag:begin empty',
      '',
      '@@netdiag:end empty 0',
      '',
    ].join('\n');
    const sections = parseSections(text);
    assert.deepEqual([...sections.keys()], ['a', 'b c', 'empty']);
    assert.deepEqual(sections.get('a'), { name: 'a', output: 'line 1\nline 2\n', status: 0 });
    assert.deepEqual(sections.get('b c'), {
      name: 'b c',
      output: 'no newline at the end',
      status: 1,
      stderr: 'b: oops',
    });
    assert.equal(sections.get('empty')?.output, '');
    assert.equal(okOutput(sections, 'a'), 'line 1\nline 2\n');
    assert.equal(okOutput(sections, 'b c'), undefined, 'a failed command has no ok output');
    assert.deepEqual(
      sectionsNamed(sections, 'b').map((found) => found.key),
      ['c'],
    );
  });
  it('keeps what arrived of a section cut short, without a status', () => {
    const sections = parseSections('@@netdiag:begin cut\npartial\nmore');
    assert.deepEqual(sections.get('cut'), { name: 'cut', output: 'partial\nmore', status: undefined });
  });
  it('ignores a line that only looks like the end of another section', () => {
    const sections = parseSections('@@netdiag:begin x\n@@netdiag:end y 0\n\n@@netdiag:end x 0\n');
    assert.equal(sections.get('x')?.output, '@@netdiag:end y 0\n');
  });
});
