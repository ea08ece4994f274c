import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientVersion } from '../../../src/lib/build-info.js';
import { assertMatchesSchema, schemaErrors } from '../../schema.js';
import { FIXTURE } from './fixture.js';

describe('docs/schema', () => {
  it('the shared result schema accepts the fixture and its JSON round trip', () => {
    assertMatchesSchema('result', FIXTURE);
    assertMatchesSchema('result', JSON.parse(JSON.stringify(FIXTURE)));
  });
  it('and rejects what breaks the contract', () => {
    const bad = (change: object) => schemaErrors('result', { ...FIXTURE, ...change });
    assert.deepEqual(bad({ findings: [{ ...FIXTURE.findings[0], status: 'ok' }] }), [
      '/findings/0/status must be equal to one of the allowed values',
    ]);
    assert.deepEqual(bad({ findings: [{ ...FIXTURE.findings[0], id: 'worker1 down' }] }), [
      '/findings/0/id must match pattern "^[a-z0-9-]+(\\.[a-z0-9-]+)+$"',
    ]);
    assert.deepEqual(bad({ unavailable: [{ node: 'x' }] }), [
      "/unavailable/0 must have required property 'profile'",
      "/unavailable/0 must have required property 'reason'",
    ]);
    assert.deepEqual(bad({ extra: 1 }), ['/ must NOT have additional properties']);
  });
  it('version: the client facts as this build reports them', () => {
    const root = new URL('../../../..', import.meta.url).pathname;
    assertMatchesSchema('version', { client: clientVersion(root, '0.1.0') });
    assertMatchesSchema('version', {
      client: clientVersion(root, '0.1.0'),
      server: null,
      serverError: 'cannot reach the server',
    });
    assert.notDeepEqual(schemaErrors('version', { client: { version: 'x' } }), []);
  });
});
