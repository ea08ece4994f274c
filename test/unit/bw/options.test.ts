import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BW_FLAG_DEFAULTS,
  bwOptions,
  DEFAULT_UDP_BITRATE,
  parseBitrate,
  requestedPairs,
  type BwFlagValues,
} from '../../../src/bw/options.js';
import { NetdiagError } from '../../../src/lib/errors.js';
import { DEFAULT_TEST, W1, W2, W3 } from './data.js';

const nodes = [W1, W2, W3];

/** The flags as `kubectl netdiag bw` parses them when none is given. */
const defaults: BwFlagValues = BW_FLAG_DEFAULTS;

/** A usage error (exit 2) whose cause matches `cause`. */
const usage = (cause: RegExp) => (err: unknown) =>
  err instanceof NetdiagError && err.exitCode === 2 && cause.test(err.message) && (err.fix ?? '') !== '';

describe('bwOptions', () => {
  it('defaults: every ordered pair, TCP, 10 s after 1 s omitted, pod network', () => {
    const options = bwOptions(defaults, nodes);
    assert.equal(options.pairs.length, 6);
    assert.deepEqual(options.networks, ['pod']);
    assert.deepEqual(options.test, DEFAULT_TEST);
  });

  it('boolean flags oclif left undefined are false (the JSON contract has them)', () => {
    const { serial: _s, reverse: _r, bidir: _b, ...given } = defaults;
    const options = bwOptions(given, nodes);
    assert.deepEqual([options.serial, options.test.reverse, options.test.bidir], [false, false, false]);
  });

  it('--network both measures pod and host; UDP gets a 1 Gbit/s default rate', () => {
    const options = bwOptions({ ...defaults, network: 'both', protocol: 'udp' }, nodes);
    assert.deepEqual(options.networks, ['pod', 'host']);
    assert.equal(options.test.bitrate, DEFAULT_UDP_BITRATE);
    assert.equal(bwOptions({ ...defaults, protocol: 'udp', bitrate: '200M' }, nodes).test.bitrate, 200_000_000);
  });

  it('--min-rate in bits/s like --bitrate; none without it', () => {
    assert.equal(bwOptions({ ...defaults, 'min-rate': '9G' }, nodes).minBitsPerSecond, 9e9);
    assert.equal(bwOptions(defaults, nodes).minBitsPerSecond, undefined);
  });

  it('--time, --omit, --length, --parallel in their units', () => {
    const options = bwOptions({ ...defaults, time: '1m', omit: '0', length: '64Ki', parallel: 4 }, nodes);
    assert.deepEqual(
      [options.test.timeSeconds, options.test.omitSeconds, options.test.length, options.test.parallel],
      [60, 0, 65536, 4],
    );
  });

  const bad: [string, Partial<BwFlagValues>, readonly string[], RegExp][] = [
    ['one node', {}, [W1], /only one node \(worker1\.kube\.local\) is selected/],
    ['--time -1', { time: '-1' }, nodes, /--time/],
    ['--time 0', { time: '0' }, nodes, /--time "0": must be whole seconds, at least 1s/],
    ['--time 1.5s', { time: '1.5s' }, nodes, /--time "1\.5s"/],
    ['--parallel 0', { parallel: 0 }, nodes, /--parallel 0/],
    ['--parallel 129', { parallel: 129 }, nodes, /--parallel 129/],
    ['--port 70000', { port: 70000 }, nodes, /--port 70000/],
    ['--bitrate fast', { protocol: 'udp', bitrate: 'fast' }, nodes, /--bitrate "fast"/],
    ['--min-rate fast', { 'min-rate': 'fast' }, nodes, /^invalid --min-rate "fast"$/],
    ['--reverse with --bidir', { reverse: true, bidir: true }, nodes, /cannot be combined/],
    ['--protocol sctp', { protocol: 'sctp' }, nodes, /--protocol "sctp"/],
    ['--from unknown', { from: 'worker9' }, nodes, /--from "worker9" is not one of the selected nodes/],
    ['--from = --to', { from: 'worker1', to: W1 }, nodes, /same node/],
    ['--pairs self', { pairs: 'worker1:worker1' }, nodes, /with itself/],
    ['--pairs garbage', { pairs: 'worker1-worker2' }, nodes, /invalid --pairs item "worker1-worker2"/],
  ];
  for (const [name, flags, selected, cause] of bad) {
    it(`bad input: ${name} → exit 2 with a fix`, () => {
      assert.throws(() => bwOptions({ ...defaults, ...flags }, selected), usage(cause));
    });
  }
});

describe('requestedPairs', () => {
  it('--from: one to all; --to: all to one; both: the one pair', () => {
    assert.deepEqual(requestedPairs({ from: 'worker2' }, nodes), [
      { from: W2, to: W1 },
      { from: W2, to: W3 },
    ]);
    assert.deepEqual(requestedPairs({ to: 'worker2' }, nodes), [
      { from: W1, to: W2 },
      { from: W3, to: W2 },
    ]);
    assert.deepEqual(requestedPairs({ from: 'worker1', to: 'worker3' }, nodes), [{ from: W1, to: W3 }]);
  });
  it('--pairs: in order, short names resolved, repeats dropped', () => {
    assert.deepEqual(requestedPairs({ pairs: 'worker3:worker1, worker1:worker2,worker3:worker1' }, nodes), [
      { from: W3, to: W1 },
      { from: W1, to: W2 },
    ]);
  });
});

describe('parseBitrate', () => {
  it('powers of 1000 like iperf3 -b', () => {
    assert.equal(parseBitrate('1G'), 1e9);
    assert.equal(parseBitrate('500M'), 5e8);
    assert.equal(parseBitrate('100000'), 100_000);
  });
});
