import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { doctorText, type DoctorResult } from '../../../src/doctor/report.js';
import { doctorResult } from './result.js';

const diagnosis = {
  id: 'doctor.kube-proxy',
  severity: 'error',
  subject: 'node/worker3.kube.local',
  cause: "worker3.kube.local: kube-proxy's Service rules are not working there",
  nodes: ['worker3.kube.local'],
  pairs: [],
  supporting: [{ id: 'check.l4.clusterip', subject: 'node/worker3.kube.local' }],
  next: 'kubectl netdiag node --nodes worker3.kube.local',
} as const;

const result = (over: Partial<DoctorResult['data']> = {}, failing = true): DoctorResult =>
  doctorResult(
    {
      diagnoses: [diagnosis],
      steps: [
        { name: 'preflight', status: 'ok', durationMs: 120 },
        { name: 'bw', status: 'skipped', durationMs: 0, reason: '--quick' },
      ],
      ...over,
    },
    {
      findings: [
        {
          id: 'check.l4.clusterip',
          subject: 'node/worker3.kube.local',
          status: failing ? 'fail' : 'pass',
          summary: 's',
          evidence: [],
        },
      ],
    },
  );

describe('doctorText', () => {
  it('diagnoses first with their next command, then the steps that did not run', () => {
    assert.equal(
      doctorText(result(), { wide: false, colour: false }),
      [
        'SEVERITY   DIAGNOSIS           SUBJECT                   CAUSE',
        "error      doctor.kube-proxy   node/worker3.kube.local   worker3.kube.local: kube-proxy's Service rules are not working there",
        '',
        'next (doctor.kube-proxy node/worker3.kube.local): kubectl netdiag node --nodes worker3.kube.local',
        '',
        'bw: skipped (--quick)',
        '',
      ].join('\n'),
    );
  });
  it('diagnoses that point at the same next command share its line', () => {
    const odd = {
      ...diagnosis,
      id: 'doctor.odd-node',
      severity: 'warning',
      cause: 'worker3.kube.local: differs from the other nodes: kube-proxy mode none (others iptables)',
    } as const;
    const text = doctorText(result({ diagnoses: [diagnosis, odd] }), { wide: false, colour: false });
    assert.match(
      text,
      /^next \(doctor\.kube-proxy, doctor\.odd-node node\/worker3\.kube\.local\): kubectl netdiag node --nodes worker3\.kube\.local$/m,
    );
    assert.equal(text.match(/^next /gm)?.length, 1);
  });
  it('wide adds the supporting findings; captures and baseline changes are listed', () => {
    const text = doctorText(
      result({
        captures: [
          {
            diagnosis: { id: 'doctor.kube-proxy', subject: 'node/worker3.kube.local' },
            file: 'doctor-capture-1.pcapng',
            from: 'worker1.kube.local',
            to: 'worker3.kube.local',
            sent: 5,
            arrived: 0,
          },
        ],
        baseline: {
          file: 'base.json',
          takenAt: '2026-12-02T12:00:00.000Z',
          changes: [
            {
              kind: 'new-failure',
              id: 'check.l4.clusterip',
              subject: 'node/worker3.kube.local',
              before: 'pass',
              after: 'fail',
              summary: 'ClusterIP times out',
            },
          ],
        },
      }),
      { wide: true, colour: false },
    );
    assert.match(text, /SUPPORTING\n.*check\.l4\.clusterip node\/worker3\.kube\.local$/m);
    assert.match(
      text,
      /^capture \(doctor\.kube-proxy node\/worker3\.kube\.local\): doctor-capture-1\.pcapng — 5 probe packets left worker1\.kube\.local, 0 arrived at worker3\.kube\.local$/m,
    );
    assert.match(
      text,
      /^CHANGES since 2026-12-02T12:00:00\.000Z \(base\.json\):\nCHANGE +CHECK +SUBJECT +WHAT\nnew-failure +check\.l4\.clusterip +node\/worker3\.kube\.local +ClusterIP times out$/m,
    );
  });
  it('says so when no rule found a cause', () =>
    assert.match(doctorText(result({ diagnoses: [] }, false), { wide: false, colour: false }), /^DIAGNOSES: none/));
});
