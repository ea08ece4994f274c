import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  outsideTargets,
  parsePingHost,
  parseSample,
  parseTarget,
  parseUrl,
  WELL_KNOWN_EXTERNAL,
} from '../../../src/check/options.js';
import { NetdiagError } from '../../../src/lib/errors.js';

const isUsageError = (flag: string) => (err: unknown) =>
  err instanceof NetdiagError && err.exitCode === 2 && err.message.includes(`--${flag}`);

describe('check options', () => {
  it('reads TCP and UDP targets, names and addresses, IPv6 in brackets', () => {
    assert.deepEqual(parseTarget('ya.ru:8080'), { protocol: 'tcp', target: { host: 'ya.ru', port: 8080 } });
    assert.deepEqual(parseTarget('tcp:10.0.0.5:80'), { protocol: 'tcp', target: { host: '10.0.0.5', port: 80 } });
    assert.deepEqual(parseTarget('udp:10.0.0.53:53'), { protocol: 'udp', target: { host: '10.0.0.53', port: 53 } });
    assert.deepEqual(parseTarget('[fd00::1]:443'), { protocol: 'tcp', target: { host: 'fd00::1', port: 443 } });
  });
  it('refuses targets that are not host:port, or that nc would read as options', () => {
    for (const bad of [
      'ya.ru',
      'ya.ru:0',
      'ya.ru:65536',
      '-e:80',
      'a b:80',
      '999.1.1.1:80',
      'udp:',
      ':80',
      'fd00::1:443',
    ]) {
      assert.throws(() => parseTarget(bad), isUsageError('target'), bad);
    }
  });
  it('takes http and https URLs only', () => {
    assert.equal(parseUrl('http://www.netdiag.test'), 'http://www.netdiag.test/');
    assert.equal(parseUrl('https://216.58.211.238:443/x?y=1'), 'https://216.58.211.238/x?y=1');
    for (const bad of ['www.netdiag.test', 'ftp://x/', '-o/etc/passwd', 'http://a b/']) {
      assert.throws(() => parseUrl(bad), isUsageError('url'), bad);
    }
  });
  it('takes a host to ping', () => {
    assert.equal(parsePingHost('google.com'), 'google.com');
    assert.equal(parsePingHost('[fd00::1]'), 'fd00::1');
    assert.throws(() => parsePingHost('-f'), isUsageError('ping'));
  });
  it('adds the well-known set only with --external, once each', () => {
    assert.deepEqual(outsideTargets({}), { tcp: [], udp: [], urls: [], ping: [] });
    const both = outsideTargets({ external: true, target: ['1.1.1.1:443', 'ya.ru:80'], url: ['http://x.test/'] });
    assert.deepEqual(both.tcp, [
      { host: '1.1.1.1', port: 443 },
      { host: 'ya.ru', port: 80 },
      { host: '8.8.8.8', port: 443 },
    ]);
    assert.deepEqual(both.urls, ['http://x.test/', ...WELL_KNOWN_EXTERNAL.urls]);
    assert.deepEqual(both.ping, WELL_KNOWN_EXTERNAL.ping);
  });
  it('takes a positive --sample', () => {
    assert.equal(parseSample(undefined), undefined);
    assert.equal(parseSample(3), 3);
    for (const bad of [0, -1, 2.5]) assert.throws(() => parseSample(bad), isUsageError('sample'));
  });
});
