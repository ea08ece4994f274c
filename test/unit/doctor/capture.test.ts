import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pathsToCapture } from '../../../src/doctor/capture.js';
import { type Diagnosis } from '../../../src/doctor/rules.js';

const diagnosis = (over: Partial<Diagnosis>): Diagnosis => ({
  id: 'doctor.podnet-path',
  severity: 'error',
  subject: 'w1→w2',
  cause: 'c',
  nodes: ['w1', 'w2'],
  pairs: ['w1→w2'],
  supporting: [
    { id: 'dns.cause.podnet', subject: 'node/w1' },
    { id: 'check.l3.pod-pod', subject: 'w1→w1' },
    { id: 'check.l3.pod-pod', subject: 'w1→w2' },
    { id: 'check.l3.pod-pod', subject: 'w2→w1' },
  ],
  next: 'n',
  ...over,
});

describe('pathsToCapture', () => {
  it('one path per broken-path error diagnosis: its first supporting pair between two nodes', () =>
    assert.deepEqual(
      pathsToCapture([diagnosis({})]).map(({ from, to }) => `${from}→${to}`),
      ['w1→w2'],
    ));
  it("a firewall diagnosis of a path is captured on its failing pod probe, not on the bandwidth test's pair", () =>
    assert.deepEqual(
      pathsToCapture([
        diagnosis({
          id: 'doctor.firewall',
          supporting: [
            { id: 'bw.pair', subject: 'w2→w1' },
            { id: 'check.l3.pod-pod', subject: 'w1→w2' },
          ],
        }),
        diagnosis({ id: 'doctor.firewall', supporting: [{ id: 'bw.pair', subject: 'w2→w1' }] }),
      ]).map(({ diagnosis: d, from, to }) => `${d.id} ${from}→${to}`),
      ['doctor.firewall w1→w2'],
    ));
  it('nothing for other diagnoses, warnings, or a diagnosis with no pair', () =>
    assert.deepEqual(
      pathsToCapture([
        diagnosis({ id: 'doctor.kube-proxy' }),
        diagnosis({ severity: 'warning' }),
        diagnosis({ supporting: [{ id: 'dns.cause.podnet', subject: 'node/w1' }] }),
      ]),
      [],
    ));
});
