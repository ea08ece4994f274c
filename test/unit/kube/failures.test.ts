import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyFailure, parseApiStatus, toClusterError, transportCode } from '../../../src/kube/failures.js';

const ctx = {
  server: 'https://10.0.0.1:6443',
  contextName: 'lab',
  userName: 'admin',
  action: 'list pods',
  requestTimeoutMs: 5000,
};
/** undici's shape: TypeError('fetch failed') whose cause is the socket error (or an AggregateError of them). */
const fetchFailed = (cause: unknown) => Object.assign(new TypeError('fetch failed'), { cause });
const errno = (code: string) => Object.assign(new Error(code), { code });
/** client-node's ApiException shape. */
const apiException = (code: number, body: unknown) => Object.assign(new Error(`HTTP-Code: ${code}`), { code, body });

describe('request failure classification', () => {
  it('finds transport codes through undici nesting and AggregateError', () => {
    assert.equal(transportCode(fetchFailed(errno('ECONNREFUSED'))), 'ECONNREFUSED');
    assert.equal(
      transportCode(fetchFailed(new AggregateError([errno('ECONNREFUSED'), errno('EHOSTUNREACH')]))),
      'ECONNREFUSED',
    );
  });

  it('names the URL when the API is unreachable', () => {
    const err = toClusterError(fetchFailed(errno('ECONNREFUSED')), ctx);
    assert.equal(err.exitCode, 3);
    assert.match(err.message, /cannot reach the Kubernetes API at https:\/\/10\.0\.0\.1:6443 \(ECONNREFUSED\)/);
  });

  it('recognises TLS failures', () => {
    const failure = classifyFailure(fetchFailed(errno('DEPTH_ZERO_SELF_SIGNED_CERT')));
    assert.equal(failure.kind, 'tls');
    assert.match(toClusterError(fetchFailed(errno('ERR_TLS_CERT_ALTNAME_INVALID')), ctx).message, /TLS verification/);
  });

  it('recognises 401 as an authentication failure naming the user', () => {
    const err = toClusterError(apiException(401, undefined), ctx);
    assert.equal(err.exitCode, 3);
    assert.match(err.message, /rejected the credentials of user "admin" \(401 Unauthorized\)/);
  });

  it('keeps the API message of a 403', () => {
    const body = JSON.stringify({
      kind: 'Status',
      status: 'Failure',
      reason: 'Forbidden',
      code: 403,
      message: 'pods is forbidden: User "x" cannot create resource "pods"',
    });
    const failure = classifyFailure(apiException(403, body));
    assert.equal(failure.kind, 'forbidden');
    assert.equal(failure.status?.reason, 'Forbidden');
    assert.match(toClusterError(apiException(403, body), ctx).message, /cannot create resource "pods"/);
  });

  it('treats timeouts as environment errors mentioning --request-timeout', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const err = toClusterError(timeout, ctx);
    assert.match(err.message, /timed out after 5s/);
    assert.match(err.fix ?? '', /--request-timeout/);
  });

  it('parses Status bodies and ignores non-JSON', () => {
    assert.equal(parseApiStatus('{"kind":"Status","reason":"NotFound"}')?.reason, 'NotFound');
    assert.equal(parseApiStatus('<html>'), undefined);
  });
});
