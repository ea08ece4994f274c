import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boundedArgv } from '../../../src/kube/bounded.js';

describe('boundedArgv', () => {
  it('wraps argv in timeout with TERM then KILL', () => {
    assert.deepEqual(boundedArgv(['tcpdump', '-i', 'any', 'port 53'], { seconds: 60 }), [
      'timeout',
      '-s',
      'TERM',
      '-k',
      '5',
      '60',
      'tcpdump',
      '-i',
      'any',
      'port 53',
    ]);
    assert.deepEqual(boundedArgv(['iperf3', '-s'], { seconds: 9.2, signal: 'INT', killAfterSeconds: 2 }), [
      'timeout',
      '-s',
      'INT',
      '-k',
      '2',
      '10',
      'iperf3',
      '-s',
    ]);
  });
  it('refuses unbounded or empty commands', () => {
    assert.throws(() => boundedArgv([], { seconds: 1 }));
    assert.throws(() => boundedArgv(['x'], { seconds: 0 }));
    assert.throws(() => boundedArgv(['x'], { seconds: Number.POSITIVE_INFINITY }));
  });
});
