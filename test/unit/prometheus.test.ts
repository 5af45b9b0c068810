// The exporter's query parsing, state mapping, metric catalogue and reply framing. Expected
// values come from HAProxy 2.6's exporter (observed answers for the same query strings, its HELP
// texts) and from the chunked encoding of RFC 9112 7.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePromQuery, promServerState, describeMetrics, promReply, SCOPES } from '../../src/ops/prometheus.js';

const ALL = [...SCOPES].sort();
const scopes = (uri: string): string[] | undefined => {
  const q = parsePromQuery(uri);
  return q ? [...q.scopes].sort() : undefined;
};

test('scope parameters as haproxy 2.6 answers them', () => {
  assert.deepEqual(scopes('/metrics'), ALL);
  assert.deepEqual(scopes('/metrics?'), ALL);
  assert.deepEqual(scopes('/metrics?scope='), []);
  assert.deepEqual(scopes('/metrics?scope=listener'), ['listener']);
  assert.deepEqual(scopes('/metrics?scope=sticktable'), ['sticktable']);
  assert.deepEqual(scopes('/metrics?scope=*&scope='), []);
  assert.deepEqual(scopes('/metrics?scope=&scope=global'), ['global']);
  assert.deepEqual(scopes('/metrics?scope=backend&scope=frontend'), ['backend', 'frontend']);
  assert.deepEqual(scopes('/metrics?foo=bar&scope=global'), ['global']);
  assert.deepEqual(scopes('/metrics?scope=server&scope=*'), ALL);
  // 400 Bad request
  assert.equal(scopes('/metrics?scope=foo'), undefined);
  assert.equal(scopes('/metrics?scope=Global'), undefined);
  assert.equal(scopes('/metrics?scope=global%20'), undefined);
  assert.equal(scopes('/metrics?scope'), undefined);
  assert.equal(scopes('/metrics?scope=global&scope=foo&scope=frontend'), undefined);
});

test('no-maint and extra-counters flags', () => {
  assert.equal(parsePromQuery('/metrics?no-maint&scope=server')!.noMaint, true);
  assert.equal(parsePromQuery('/metrics?scope=server')!.noMaint, false);
  assert.equal(parsePromQuery('/metrics?extra-counters')!.extraCounters, true);
});

test('server states from the status column', () => {
  assert.equal(promServerState('UP'), 'UP');
  assert.equal(promServerState('UP 1/3'), 'UP');
  assert.equal(promServerState('no check'), 'UP');
  assert.equal(promServerState('DOWN'), 'DOWN');
  assert.equal(promServerState('DOWN 1/2'), 'DOWN');
  assert.equal(promServerState('DOWN (agent)'), 'DOWN');
  assert.equal(promServerState('MAINT'), 'MAINT');
  assert.equal(promServerState('MAINT (via be/s1)'), 'MAINT');
  assert.equal(promServerState('DRAIN'), 'DRAIN');
  assert.equal(promServerState('DRAIN (agent)'), 'DRAIN');
  assert.equal(promServerState('NOLB'), 'NOLB');
  assert.equal(promServerState('NOLB 2/3'), 'NOLB');
});

test('metric catalogue: counts per scope and HELP texts of haproxy 2.6', () => {
  const m = describeMetrics();
  const count = (p: string): number => m.filter((x) => x.name.startsWith(p)).length;
  // haproxy 2.6: 60 process, 28 frontend, 14 listener, 50 backend, 49 server families
  assert.equal(count('haproxy_process_'), 60);
  assert.equal(count('haproxy_frontend_'), 28);
  assert.equal(count('haproxy_listener_'), 14);
  assert.equal(count('haproxy_backend_'), 50);
  assert.equal(count('haproxy_server_'), 49);
  assert.equal(new Set(m.map((x) => x.name)).size, m.length);
  const by = new Map(m.map((x) => [x.name, x]));
  assert.deepEqual(by.get('haproxy_process_max_memory_bytes'), {
    name: 'haproxy_process_max_memory_bytes', type: 'gauge', help: "Worker process's hard limit on memory usage in byes (-m on command line)",
  });
  assert.equal(by.get('haproxy_server_check_code')!.help, 'layer5-7 code, if available of the last health check.');
  assert.equal(by.get('haproxy_frontend_status')!.help, 'Current status of the service, per state label value.');
  assert.equal(by.get('haproxy_backend_http_cache_hits_total')!.help, 'Total number of HTTP requests not found in the cache on this frontend/backend since the worker process started');
  assert.equal(by.get('haproxy_process_failed_resolutions')!.type, 'counter');
  assert.equal(by.get('haproxy_process_pipes_used_total')!.type, 'counter');
  assert.equal(by.get('haproxy_backend_max_session_rate')!.type, 'gauge');
  // frontend order: field order of the statistics
  const fe = m.filter((x) => x.name.startsWith('haproxy_frontend_')).map((x) => x.name.slice(17));
  assert.deepEqual(fe.slice(0, 14), ['current_sessions', 'max_sessions', 'limit_sessions', 'sessions_total', 'bytes_in_total', 'bytes_out_total',
    'requests_denied_total', 'responses_denied_total', 'request_errors_total', 'status', 'limit_session_rate', 'max_session_rate',
    'http_responses_total', 'http_requests_rate_max']);
  // no stick table metrics
  assert.equal(count('haproxy_sticktable_'), 0);
});

test('reply: chunked body, none for HEAD', () => {
  const r = promReply('a 1\n', false);
  assert.equal(r.status, 200);
  assert.deepEqual(r.headers.list.map((h) => `${h.lname}: ${h.value}`), ['cache-control: no-cache', 'content-type: text/plain; version=0.0.4', 'transfer-encoding: chunked']);
  assert.equal(r.body.toString('latin1'), '4\r\na 1\n\r\n0\r\n\r\n');
  assert.equal(promReply('', false).body.toString('latin1'), '0\r\n\r\n');
  assert.equal(promReply('a 1\n', true).body.length, 0);
});
