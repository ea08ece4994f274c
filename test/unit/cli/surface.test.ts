import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { cliSurface, SNAPSHOT } from '../../cli-surface.js';

describe('the CLI surface (docs/cli-surface.json)', () => {
  it('every command’s args and flags are as committed; after an intended change run `npm run snapshot:cli`', async () => {
    const committed = JSON.parse(readFileSync(SNAPSHOT, 'utf8')) as unknown;
    assert.deepEqual(await cliSurface(), committed);
  });
});
