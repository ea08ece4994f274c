import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareBaseline, toBaseline } from '../../../src/doctor/baseline.js';
import { correlate } from '../../../src/doctor/rules.js';
import { type Finding } from '../../../src/findings/model.js';
import { assertMatchesSchema, schemaErrors } from '../../schema.js';
import { doctorResult } from './result.js';

const finding = (id: string, subject: string, status: Finding['status']): Finding => ({
  id,
  subject,
  status,
  summary: `${id} ${status}`,
  evidence: [{ where: 'node/worker3.kube.local', command: 'nc -z 10.233.0.10 53', output: 'timed out' }],
  metrics: { reason: 'timeout' },
});

const findings = [
  finding('check.l4.clusterip', 'node/worker3.kube.local', 'fail'),
  finding('check.l4.podip', 'worker3.kube.local→worker1.kube.local', 'pass'),
  finding('node.conntrack', 'node/worker1.kube.local', 'warn'),
];
const { diagnoses, unexplained } = correlate(findings);
const result = doctorResult(
  {
    diagnoses,
    unexplained: unexplained.map(({ id, subject }) => ({ id, subject })),
    baseline: {
      file: 'good.json',
      takenAt: '2026-12-02T12:00:00.000Z',
      changes: compareBaseline(
        toBaseline(
          findings.map((f) => ({ ...f, status: 'pass' })),
          new Date('2026-12-02T12:00:00Z'),
        ),
        findings,
      ),
    },
    steps: [
      { name: 'preflight', status: 'ok', durationMs: 210 },
      { name: 'check', status: 'ok', durationMs: 20_000 },
      { name: 'node', status: 'failed', durationMs: 3_000, reason: 'no node-inspector could run' },
      { name: 'bw', status: 'skipped', durationMs: 0, reason: '--quick' },
    ],
  },
  {
    findings,
    unavailable: [{ node: 'worker2.kube.local', profile: 'node-inspector', reason: 'image pull failed' }],
  },
);

describe('docs/schema/doctor.schema.json', () => {
  it('accepts a result with diagnoses, changes and steps, and its JSON round trip', () => {
    assert.equal(diagnoses.length, 1);
    assertMatchesSchema('doctor', result);
    assertMatchesSchema('doctor', JSON.parse(JSON.stringify(result)));
  });
  it('refuses an unknown diagnosis id, a diagnosis without support, another command', () => {
    const diagnosis = diagnoses[0]!;
    const withDiagnosis = (changed: object) =>
      schemaErrors('doctor', { ...result, data: { ...result.data, diagnoses: [{ ...diagnosis, ...changed }] } });
    assert.notDeepEqual(withDiagnosis({ id: 'doctor.gremlins' }), []);
    assert.notDeepEqual(withDiagnosis({ supporting: [] }), []);
    assert.notDeepEqual(schemaErrors('doctor', { ...result, command: 'check' }), []);
  });
});
