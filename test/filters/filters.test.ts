import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ZodError } from 'zod';
import { compileFilter, DEFAULT_FILTERS, FilterRules, loadFilterRules } from '../../src/filters/index.js';
import { makePair } from '../../tools/fixtures/pairs.js';

const keep = compileFilter();

describe('default filters', () => {
  it('drop health checks, probes and scrapes', () => {
    for (const p of ['/healthz', '/readyz', '/livez', '/health', '/health/live', '/ping', '/metrics']) {
      assert.equal(keep(makePair({ path: p })), false, p);
    }
    assert.equal(keep(makePair({ path: '/', headers: [['User-Agent', 'kube-probe/1.29']] })), false);
  });

  it('drop telemetry by path, host and port', () => {
    const otlp = makePair({
      direction: 'outbound',
      method: 'POST',
      path: '/v1/traces',
      headers: [['content-type', 'application/x-protobuf']],
    });
    assert.equal(keep(otlp), false);
    assert.equal(keep(makePair({ method: 'POST', path: '/api/v2/spans' })), false, 'zipkin');
    assert.equal(
      keep(makePair({ path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export' })),
      false,
    );
    assert.equal(keep(makePair({ method: 'PUT', path: '/v0.4/traces' })), false, 'datadog agent');
    assert.equal(keep(makePair({ direction: 'outbound', host: 'http-intake.logs.DATADOGHQ.com' })), false);
    assert.equal(
      keep(makePair({ direction: 'outbound', host: 'otel-collector.monitoring', port: 80 })),
      false,
    );
    assert.equal(keep(makePair({ direction: 'outbound', host: 'collector', port: 4318 })), false);
  });

  it('keep application traffic', () => {
    assert.equal(keep(makePair({ path: '/api/orders' })), true);
    assert.equal(keep(makePair({ path: '/api/healthz-report' })), true);
    assert.equal(
      keep(makePair({ method: 'POST', path: '/v1/logs', headers: [['content-type', 'application/json']] })),
      true,
    );
    assert.equal(keep(makePair({ direction: 'inbound', port: 4318 })), true);
  });

  it('are spelled out in DEFAULT_FILTERS', () => {
    assert.equal(DEFAULT_FILTERS.defaults, false);
    assert.ok(DEFAULT_FILTERS.exclude.length > 5);
    assert.equal(compileFilter(DEFAULT_FILTERS)(makePair({ path: '/healthz' })), false);
  });
});

describe('rules', () => {
  it('exclude by method, status exact and ranges, service, header', () => {
    const f = compileFilter({
      defaults: false,
      exclude: [
        { method: 'options' },
        { status: ['5xx', 404, '300-302'] },
        { service: 'noisy-*' },
        { header: { name: 'x-debug', in: 'response' } },
      ],
    });
    assert.equal(f(makePair({ method: 'OPTIONS' })), false);
    assert.equal(f(makePair({ status: 503 })), false);
    assert.equal(f(makePair({ status: 404 })), false);
    assert.equal(f(makePair({ status: 301 })), false);
    assert.equal(f(makePair({ status: 405 })), true);
    assert.equal(f(makePair({ noResponse: true })), true, 'no response: status never matches');
    assert.equal(f(makePair({ service: 'noisy-cron' })), false);
    assert.equal(f(makePair({ responseHeaders: [['X-Debug', '1']] })), false);
    assert.equal(f(makePair({ headers: [['x-debug', '1']] })), true, 'looks in the response only');
    assert.equal(f(makePair({ path: '/healthz' })), true, 'defaults off');
  });

  it('include with AND (fields of one condition, all) and OR (list, any), and not', () => {
    const f = compileFilter({
      defaults: false,
      include: [
        { direction: 'inbound', path: '/api/**', method: ['GET', 'POST'] },
        { all: [{ host: '*.payments.svc' }, { not: { status: '2xx' } }] },
        { any: [{ header: { name: 'x-tenant', value: 'acme*' } }, { port: 9443 }] },
      ],
    });
    assert.equal(f(makePair({ path: '/api/orders/1' })), true);
    assert.equal(f(makePair({ path: '/api/orders/1', method: 'DELETE' })), false);
    assert.equal(f(makePair({ path: '/other' })), false);
    assert.equal(f(makePair({ path: '/x', host: 'a.payments.svc', status: 500 })), true);
    assert.equal(f(makePair({ path: '/x', host: 'a.payments.svc', status: 200 })), false);
    assert.equal(f(makePair({ path: '/x', headers: [['X-Tenant', 'ACME-eu']] })), true);
    assert.equal(f(makePair({ path: '/x', port: 9443 })), true);
  });

  it('exclude wins over include', () => {
    const f = compileFilter({
      defaults: false,
      include: [{ path: '/api/**' }],
      exclude: [{ path: '/api/internal/**' }],
    });
    assert.equal(f(makePair({ path: '/api/a' })), true);
    assert.equal(f(makePair({ path: '/api/internal/x' })), false);
  });

  it('sampling keeps about the given fraction, the same pair always the same way', () => {
    const f = compileFilter({ defaults: false, sampleRate: 0.25 });
    const pairs = Array.from({ length: 4000 }, (_, i) => makePair({ id: `p-${i}` }));
    const kept = pairs.filter(f).length;
    assert.ok(kept > 800 && kept < 1200, `kept ${kept}`);
    assert.deepEqual(pairs.map(f), pairs.map(f));
    assert.equal(pairs.filter(compileFilter({ defaults: false, sampleRate: 0 })).length, 0);
  });

  it('a bad rule fails with a zod error naming the field path', () => {
    const bad = (rules: unknown, pathText: string) => {
      assert.throws(
        () => compileFilter(rules as never),
        (err: unknown) => err instanceof ZodError && err.issues.some((i) => i.path.join('.') === pathText),
        pathText,
      );
    };
    bad({ exclude: [{ status: '6x' }] }, 'exclude.0.status');
    bad({ include: [{ all: [{ direction: 'sideways' }] }] }, 'include.0.all.0.direction');
    bad({ exclude: [{ pth: '/x' }] }, 'exclude.0');
    bad({ exclude: [{}] }, 'exclude.0');
    bad({ sampleRate: 2 }, 'sampleRate');
  });

  it('load from YAML with the file and field in the error', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'reprise-filters-'));
    try {
      const good = path.join(dir, 'f.yaml');
      await writeFile(good, 'defaults: false\nexclude:\n  - path: /admin/**\n    method: [GET]\n');
      const rules = await loadFilterRules(good);
      assert.deepEqual(rules.exclude, [{ path: '/admin/**', method: ['GET'] }]);
      assert.equal(FilterRules.parse(rules).defaults, false);
      const badFile = path.join(dir, 'bad.json');
      await writeFile(badFile, '{"include":[{"status":"abc"}]}');
      await assert.rejects(loadFilterRules(badFile), /bad\.json: include\.0\.status: /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
