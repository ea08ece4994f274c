import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { colorEnabled, formatErrorLines, formatTable, paint, type TableColumn } from '../../../src/lib/output.js';

interface Row {
  name: string;
  node: string;
}
const columns: TableColumn<Row>[] = [
  { header: 'name', value: (r) => r.name },
  { header: 'node', value: (r) => r.node, wide: true },
];
const rows: Row[] = [
  { name: 'netdiag-sniff-abcde', node: 'worker1' },
  { name: 'x', node: 'worker2' },
];

describe('output formatters', () => {
  it('prints kubectl-style tables, wide columns only with -o wide', () => {
    assert.equal(formatTable(columns, rows, false), 'NAME\nnetdiag-sniff-abcde\nx\n');
    assert.equal(
      formatTable(columns, rows, true),
      'NAME                  NODE\nnetdiag-sniff-abcde   worker1\nx                     worker2\n',
    );
  });
  it('respects NO_COLOR and non-TTYs', () => {
    assert.equal(colorEnabled({}, true), true);
    assert.equal(colorEnabled({ NO_COLOR: '1' }, true), false);
    assert.equal(colorEnabled({ NO_COLOR: '' }, true), true);
    assert.equal(colorEnabled({}, false), false);
    assert.equal(paint('x', 'red', false), 'x');
    assert.equal(paint('x', 'red', true), '\u001b[31mx\u001b[0m');
  });
  it('colours only the error/fix prefixes, and only when asked', () => {
    const lines = ['error: pod "x" not found', 'fix: list pods', 'kind: Role'];
    assert.equal(formatErrorLines(lines, false), 'error: pod "x" not found\nfix: list pods\nkind: Role\n');
    assert.equal(
      formatErrorLines(lines, true),
      '\u001b[31merror:\u001b[0m pod "x" not found\n\u001b[33mfix:\u001b[0m list pods\nkind: Role\n',
    );
  });
});
