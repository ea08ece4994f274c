import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { PNG } from 'pngjs';
import { renderResult, STATUS_FILL } from '../../../src/findings/render/index.js';
import { FIXTURE } from './fixture.js';

/** Pixels of `png` within a small distance of `hex` (anti-aliasing blurs the edges, not the fill). */
function countColour(png: PNG, hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
  let count = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    const d = Math.abs(png.data[i]! - r) + Math.abs(png.data[i + 1]! - g) + Math.abs(png.data[i + 2]! - b);
    if (d <= 12) count += 1;
  }
  return count;
}

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
    const run = spawnSync(
      'chromium',
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-dev-shm-usage',
        '--no-first-run',
        `--user-data-dir=${path.join(dir, 'profile')}`,
        '--hide-scrollbars',
        '--window-size=1280,900',
        `--screenshot=${shot}`,
        `file://${report}`,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(run.status, 0, `chromium failed (${run.error?.message ?? ''}): ${run.stderr}`);
    const png = PNG.sync.read(readFileSync(shot));
    assert.deepEqual([png.width, png.height], [1280, 900]);
    const pixels = png.width * png.height;
    const white = countColour(png, '#ffffff');
    assert.ok(pixels - white > pixels * 0.02, `only ${pixels - white} of ${pixels} pixels are not white`);
    for (const status of ['fail', 'warn', 'pass', 'skip'] as const) {
      // A pill is ~40×18 px; the summary bar adds a block of the same colour.
      assert.ok(
        countColour(png, STATUS_FILL[status]) > 300,
        `no ${status} colour (${STATUS_FILL[status]}) on the page`,
      );
    }
  });
});
