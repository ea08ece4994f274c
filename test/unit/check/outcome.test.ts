import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { probeOutcome } from '../../../src/check/outcome.js';
import type { Probe, ProbeKind } from '../../../src/check/probes.js';
import { capturedRun } from './fixtures.js';

const probeOf = (kind: ProbeKind, anyHttpStatus = false): Probe => ({
  id: 'check.external.tcp',
  layer: 'external',
  kind,
  from: 'w1',
  target: 'x',
  argv: [],
  timeoutSeconds: 4,
  ...(anyHttpStatus ? { anyHttpStatus } : {}),
});

const outcomeOf = (kind: ProbeKind, fixture: string, elapsedMs = 12) => {
  const run = capturedRun(fixture);
  return probeOutcome(probeOf(kind), { exitCode: run.exitCode, elapsedMs, stdout: run.stdout, stderr: run.stderr });
};

describe('probeOutcome on real nc, curl and ping output', () => {
  const table: readonly { kind: ProbeKind; fixture: string; reason: string; detail: string }[] = [
    { kind: 'tcp', fixture: 'nc/tcp-ok', reason: 'ok', detail: 'Connection to 127.0.0.1 9000 port [tcp/*] succeeded!' },
    {
      kind: 'tcp',
      fixture: 'nc/tcp-refused',
      reason: 'refused',
      detail: 'nc: connect to 127.0.0.1 port 81 (tcp) failed: Connection refused',
    },
    {
      kind: 'tcp',
      fixture: 'nc/tcp-timeout',
      reason: 'timeout',
      detail: 'nc: connect to 10.8.1.1 port 82 (tcp) timed out: Operation now in progress',
    },
    {
      kind: 'tcp',
      fixture: 'nc/tcp-no-route',
      reason: 'no-route',
      detail: 'nc: connect to 127.0.0.1 port 83 (tcp) failed: No route to host',
    },
    {
      kind: 'tcp',
      fixture: 'nc/tcp-network-unreachable',
      reason: 'no-route',
      detail: 'nc: connect to 10.9.9.9 port 80 (tcp) failed: Network is unreachable',
    },
    {
      kind: 'tcp',
      fixture: 'nc/tcp-unresolved',
      reason: 'unresolved',
      detail: 'nc: getaddrinfo for host "nonexistent.invalid" port 80: Temporary failure in name resolution',
    },
    { kind: 'udp', fixture: 'nc/udp-echo', reason: 'ok', detail: 'echoed' },
    { kind: 'udp', fixture: 'nc/udp-no-reply', reason: 'no-reply', detail: 'no answer' },
    { kind: 'http', fixture: 'curl/http-200', reason: 'ok', detail: 'HTTP 200' },
    {
      kind: 'http',
      fixture: 'curl/refused',
      reason: 'refused',
      detail: '* connect to 127.0.0.1 port 81 failed: Connection refused',
    },
    {
      kind: 'http',
      fixture: 'curl/no-route',
      reason: 'no-route',
      detail: '* connect to 127.0.0.1 port 83 failed: No route to host',
    },
    {
      kind: 'http',
      fixture: 'curl/network-unreachable',
      reason: 'no-route',
      detail: '* Immediate connect fail for 10.9.9.9: Network is unreachable',
    },
    {
      kind: 'http',
      fixture: 'curl/timeout',
      reason: 'timeout',
      detail: '* Failed to connect to 10.8.1.1 port 82 after 2002 ms: Timeout was reached',
    },
    {
      kind: 'http',
      fixture: 'curl/unresolved',
      reason: 'unresolved',
      detail: '* Could not resolve host: nonexistent.invalid',
    },
    // from a tools-image pod on the lab, against the world (docs/lab.md)
    {
      kind: 'tcp',
      fixture: 'lab/nc-world-8080-ok',
      reason: 'ok',
      detail: 'Connection to www.netdiag.test (172.30.78.80) 8080 port [tcp/http-alt] succeeded!',
    },
    {
      kind: 'tcp',
      fixture: 'lab/nc-world-81-refused',
      reason: 'refused',
      detail: 'nc: connect to www.netdiag.test (172.30.78.80) port 81 (tcp) failed: Connection refused',
    },
    {
      kind: 'tcp',
      fixture: 'lab/nc-world-82-timeout',
      reason: 'timeout',
      detail: 'nc: connect to 172.30.78.80 port 82 (tcp) timed out: Operation now in progress',
    },
    {
      kind: 'tcp',
      fixture: 'lab/nc-unresolved',
      reason: 'unresolved',
      detail: 'nc: getaddrinfo for host "nothing.netdiag.test" port 80: Name or service not known',
    },
    { kind: 'http', fixture: 'lab/curl-world-200', reason: 'ok', detail: 'HTTP 200' },
    {
      kind: 'http',
      fixture: 'lab/curl-world-81-refused',
      reason: 'refused',
      detail: '* connect to 172.30.78.80 port 81 failed: Connection refused',
    },
    {
      kind: 'http',
      fixture: 'lab/curl-world-82-timeout',
      reason: 'timeout',
      detail: '* Failed to connect to 172.30.78.80 port 82 after 2016 ms: Timeout was reached',
    },
    {
      kind: 'http',
      fixture: 'lab/curl-unresolved',
      reason: 'unresolved',
      detail: '* Could not resolve host: nothing.netdiag.test',
    },
    {
      kind: 'http',
      fixture: 'lab/curl-resolving-timeout',
      reason: 'unresolved',
      detail: '* Resolving timed out after 2000 milliseconds',
    },
    { kind: 'udp', fixture: 'lab/udp-world-8080-echo', reason: 'ok', detail: 'echoed' },
    { kind: 'ping', fixture: 'lab/ping-world-ok', reason: 'ok', detail: '3/3 replies' },
    { kind: 'ping', fixture: 'lab/ping-pod-df-1472-ok', reason: 'ok', detail: '2/2 replies' },
    { kind: 'ping', fixture: 'ping/iputils-ok', reason: 'ok', detail: '3/3 replies' },
    { kind: 'ping', fixture: 'ping/iputils-timeout', reason: 'timeout', detail: 'no reply to 10 echo requests' },
  ];
  for (const { kind, fixture, reason, detail } of table) {
    it(`${fixture} → ${reason}`, () => {
      const outcome = outcomeOf(kind, fixture);
      assert.deepEqual([outcome.ok ? 'ok' : outcome.reason, outcome.detail], [reason, detail]);
    });
  }
  it('takes latency from ping round trips and curl total time, and TCP’s time in the pod as an upper bound', () => {
    assert.equal(outcomeOf('ping', 'ping/iputils-ok').latencyMs, 0.088);
    assert.equal(outcomeOf('http', 'curl/http-200').latencyMs, 22);
    assert.deepEqual(
      [outcomeOf('tcp', 'nc/tcp-ok', 7).latencyMs, outcomeOf('tcp', 'nc/tcp-ok', 7).elapsedMs],
      [undefined, 7],
    );
    assert.equal(outcomeOf('udp', 'nc/udp-echo', 2003).elapsedMs, undefined);
  });
  it('fails an HTTP error status with http-<code> unless any answer will do', () => {
    const result = { exitCode: 0, elapsedMs: 5, stdout: '\nnetdiag-http 404 0.004\n', stderr: '' };
    const strict = probeOutcome(probeOf('http'), result);
    assert.deepEqual([strict.ok, strict.reason, strict.httpStatus], [false, 'http-404', 404]);
    const lenient = probeOutcome(probeOf('http', true), result);
    assert.deepEqual([lenient.ok, lenient.httpStatus], [true, 404]);
  });
  it('calls a probe stopped by timeout(1) a timeout whatever it printed', () => {
    const outcome = probeOutcome(probeOf('udp'), { exitCode: 124, elapsedMs: 4000, stdout: '', stderr: '' });
    assert.deepEqual([outcome.ok, outcome.reason], [false, 'timeout']);
  });
});
