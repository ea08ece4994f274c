import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { renderResult, STATUS_FILL } from '../../../src/findings/render/index.js';
import { FIXTURE } from './fixture.js';
import { assertNotBlank, countColour, screenshot } from '../../browser.js';

/**
 * The html report in a real browser: Debian's chromium (scripts/setup installs it), headless, offline, a fresh
 * profile. The screenshot must show the report, not a blank page: the status pills of the findings table in their
 * colours, and enough ink for the text. The PNG stays in NETDIAG_HTML_SHOT when set, to look at.
 */
describe('html report in headless Chromium', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-html-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('renders the findings table (screenshot is not blank, every status pill is drawn)', () => {
    const report = path.join(dir, 'report.html');
    const shot = process.env.NETDIAG_HTML_SHOT ?? path.join(dir, 'shot.png');
    writeFileSync(report, renderResult('html', FIXTURE));
    const png = screenshot(report, shot, dir);
    assertNotBlank(png);
    for (const status of ['fail', 'warn', 'pass', 'skip'] as const) {
      // A pill is ~40×18 px; the summary bar adds a block of the same colour.
      assert.ok(
        countColour(png, STATUS_FILL[status]) > 300,
        `no ${status} colour (${STATUS_FILL[status]}) on the page`,
      );
    }
  });
});
