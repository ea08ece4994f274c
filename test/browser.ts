/**
 * The html report in a real browser, for tests: Debian's chromium (scripts/setup installs it), headless, offline, a
 * fresh profile, one screenshot; and a pixel count to tell a drawn report from a blank page.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';

/** Pixels of `png` within a small distance of `hex` (anti-aliasing blurs the edges, not the fill). */
export function countColour(png: PNG, hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
  let count = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    const d = Math.abs(png.data[i]! - r) + Math.abs(png.data[i + 1]! - g) + Math.abs(png.data[i + 2]! - b);
    if (d <= 12) count += 1;
  }
  return count;
}

/** Opens `report` (an html file) in headless Chromium at 1280×900 and returns the screenshot (kept at `shot`). */
export function screenshot(report: string, shot: string, scratch: string): PNG {
  const run = spawnSync(
    'chromium',
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-dev-shm-usage',
      '--no-first-run',
      `--user-data-dir=${path.join(scratch, 'chromium-profile')}`,
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
  return png;
}

/** Fails unless at least 2 % of the screenshot is not white: the page shows something. */
export function assertNotBlank(png: PNG): void {
  const pixels = png.width * png.height;
  const white = countColour(png, '#ffffff');
  assert.ok(pixels - white > pixels * 0.02, `only ${pixels - white} of ${pixels} pixels are not white`);
}
