/** What is dropped unless a rule set says `defaults: false`: probes and telemetry, never app traffic. */
import { FilterRules, type Condition } from './rules.js';

const HEALTH_PATHS = ['/healthz', '/readyz', '/livez', '/health', '/ping', '/metrics'];

/** Few conditions, each with many patterns: every condition costs a pass over the pair. */
export const DEFAULT_EXCLUDES: Condition[] = [
  {
    path: [
      // Health checks and Prometheus scrapes, also under a sub-path (/health/live).
      ...HEALTH_PATHS.flatMap((p) => [p, `${p}/**`]),
      // OpenTelemetry OTLP and Jaeger over gRPC.
      '/opentelemetry.proto.collector.*/**',
      '/jaeger.api_v2.CollectorService/**',
      // Datadog agent: traces, stats, telemetry (the SaaS intake is caught by host).
      '/v0.3/traces',
      '/v0.4/traces',
      '/v0.5/traces',
      '/v0.6/stats',
      '/v0.7/traces',
      '/telemetry/proxy/**',
    ],
  },
  { header: { name: 'user-agent', value: ['kube-probe/*', 'Prometheus/*'] } },
  // OTLP over HTTP (protobuf; OTLP/JSON is caught by host and port).
  {
    method: 'POST',
    path: ['/v1/traces', '/v1/metrics', '/v1/logs'],
    header: { name: 'content-type', value: 'application/x-protobuf*' },
  },
  // Zipkin (Jaeger's HTTP /api/traces is too generic a path: caught by port).
  { method: 'POST', path: ['/api/v2/spans', '/api/v1/spans'] },
  {
    host: [
      '*.datadoghq.com',
      '*.datadoghq.eu',
      '*.ddog-gov.com',
      'datadog-agent*',
      '*otel-collector*',
      'opentelemetry-collector*',
      'jaeger-collector*',
      'zipkin*',
    ],
  },
  // Collector ports: OTLP gRPC/HTTP, Zipkin, Jaeger, Datadog APM.
  { direction: 'outbound', port: [4317, 4318, 9411, 14250, 14268, 8126] },
];

/** The default rules with the defaults spelled out, as recorded in manifests. */
export const DEFAULT_FILTERS: FilterRules = effectiveFilterRules(FilterRules.parse({}));

/** Spells out `defaults: true` as explicit exclusions, so a manifest says exactly what was dropped. */
export function effectiveFilterRules(rules: FilterRules): FilterRules {
  if (!rules.defaults) return rules;
  return { ...rules, defaults: false, exclude: [...DEFAULT_EXCLUDES, ...rules.exclude] };
}
