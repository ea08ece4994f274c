import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toOptions } from '../../../src/commands/dns.js';
import { NetdiagError } from '../../../src/lib/errors.js';

const base = {
  'no-external': false,
  queries: 5,
  capture: false,
  propagation: false,
  'propagation-timeout': '60s',
};

describe('dns flags → options', () => {
  it('defaults: the documented external name, marked as the default (unresolvable = skip)', () =>
    assert.deepEqual(toOptions(base), {
      names: [],
      externalNames: ['kubernetes.io'],
      externalIsDefault: true,
      largeName: undefined,
      queries: 5,
      capture: false,
      propagation: false,
      propagationTimeoutMs: 60_000,
    }));
  it('--external replaces the default and must resolve', () => {
    const options = toOptions({ ...base, external: ['www.netdiag.test', 'api.netdiag.test.'] });
    assert.deepEqual(options.externalNames, ['www.netdiag.test', 'api.netdiag.test.']);
    assert.equal(options.externalIsDefault, false);
  });
  it('--no-external: none', () => assert.deepEqual(toOptions({ ...base, 'no-external': true }).externalNames, []));
  it('--name, --large-name, --propagation-timeout', () => {
    const options = toOptions({
      ...base,
      name: ['web.shop'],
      'large-name': 'big.netdiag.test',
      'propagation-timeout': '2m',
    });
    assert.deepEqual(
      [options.names, options.largeName, options.propagationTimeoutMs],
      [['web.shop'], 'big.netdiag.test', 120_000],
    );
  });
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['--queries 0', { queries: 0 }, /--queries 0/],
    ['--queries 101', { queries: 101 }, /--queries 101/],
    ['a name with a space', { name: ['not a name'] }, /--name "not a name"/],
    ['an external name with a slash', { external: ['http://x'] }, /--external "http:\/\/x"/],
    ['a label too long', { 'large-name': `${'a'.repeat(64)}.example` }, /--large-name/],
    ['--propagation-timeout 0', { 'propagation-timeout': '0' }, /--propagation-timeout/],
    ['--propagation-timeout nonsense', { 'propagation-timeout': 'soon' }, /--propagation-timeout/],
  ];
  for (const [title, flags, message] of bad)
    it(`${title} is a usage error (exit 2)`, () =>
      assert.throws(
        () => toOptions({ ...base, ...flags }),
        (err: unknown) => err instanceof NetdiagError && err.exitCode === 2 && message.test(err.message),
      ));
});
