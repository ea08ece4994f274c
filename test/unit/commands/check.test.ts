import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toOptions, type CheckFlagValues } from '../../../src/commands/check.js';
import { NetdiagError } from '../../../src/lib/errors.js';

const defaults: CheckFlagValues = { external: false, parallel: 16, 'skip-mtu': false };

describe('check toOptions', () => {
  it('checks only the cluster by default', () => {
    assert.deepEqual(toOptions(defaults), {
      outside: { tcp: [], udp: [], urls: [], ping: [] },
      parallel: 16,
      skipMtu: false,
    });
  });
  it('takes the seed’s targets', () => {
    const options = toOptions({
      ...defaults,
      target: ['ya.ru:80', 'ya.ru:8080', 'udp:10.0.0.53:53'],
      url: ['http://216.58.211.238:80', 'http://google.com:80'],
      ping: ['google.com'],
      sample: 5,
      'skip-mtu': true,
    });
    assert.deepEqual(options, {
      outside: {
        tcp: [
          { host: 'ya.ru', port: 80 },
          { host: 'ya.ru', port: 8080 },
        ],
        udp: [{ host: '10.0.0.53', port: 53 }],
        urls: ['http://216.58.211.238/', 'http://google.com/'],
        ping: ['google.com'],
      },
      sample: 5,
      parallel: 16,
      skipMtu: true,
    });
  });
  it('refuses bad input with exit 2', () => {
    for (const bad of [
      { ...defaults, parallel: 0 },
      { ...defaults, sample: 0 },
      { ...defaults, target: ['nope'] },
      { ...defaults, url: ['ftp://x/'] },
    ]) {
      assert.throws(
        () => toOptions(bad),
        (err: unknown) => err instanceof NetdiagError && err.exitCode === 2,
      );
    }
  });
});
