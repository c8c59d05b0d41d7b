/**
 * Filter rules as data (JSON/YAML, a recording's `filters`, the manifest). A condition is an
 * object whose fields must all match (AND); a list of values inside a field, and the lists
 * `include`/`exclude`/`any`, match when one entry matches (OR); `all` and `not` nest groups.
 */
import { z } from 'zod';
import { Direction } from '../model/traffic.js';

const Pattern = z.string().min(1);
/** One pattern, or a list of which any may match. */
const Patterns = z.union([Pattern, z.array(Pattern).min(1)]);

export const HeaderCondition = z.strictObject({
  /** Header name, case-insensitive, exact. */
  name: z.string().min(1),
  /** Wildcard patterns (`*`, `?`) on the value, case-insensitive; absent = the header is present. */
  value: Patterns.optional(),
  /** Which message to look in; default `request`. */
  in: z.enum(['request', 'response']).optional(),
});
export type HeaderCondition = z.infer<typeof HeaderCondition>;

/** `404`, `"404"`, `"5xx"` or an inclusive range `"500-599"`. */
export const StatusPattern = z.union([
  z.number().int().min(100).max(999),
  z.string().regex(/^(\d{3}|[1-9]xx|\d{3}-\d{3})$/i, 'expected a status such as 404, "5xx" or "500-599"'),
]);

export interface Condition {
  direction?: Direction | Direction[];
  /** Wildcard patterns on the pair's service. */
  service?: string | string[];
  /** Wildcard patterns on the request host, case-insensitive. */
  host?: string | string[];
  port?: number | number[];
  /** HTTP methods, case-insensitive. */
  method?: string | string[];
  /** picomatch globs on the request path (without the query string). */
  path?: string | string[];
  header?: HeaderCondition | HeaderCondition[];
  /** Response status; a pair without a response never matches. */
  status?: z.infer<typeof StatusPattern> | z.infer<typeof StatusPattern>[];
  all?: Condition[];
  any?: Condition[];
  not?: Condition;
}

export const Condition: z.ZodType<Condition> = z.lazy(() =>
  z
    .strictObject({
      direction: z.union([Direction, z.array(Direction).min(1)]).optional(),
      service: Patterns.optional(),
      host: Patterns.optional(),
      port: z
        .union([z.number().int().min(0).max(65535), z.array(z.number().int().min(0).max(65535)).min(1)])
        .optional(),
      method: Patterns.optional(),
      path: Patterns.optional(),
      header: z.union([HeaderCondition, z.array(HeaderCondition).min(1)]).optional(),
      status: z.union([StatusPattern, z.array(StatusPattern).min(1)]).optional(),
      all: z.array(Condition).min(1).optional(),
      any: z.array(Condition).min(1).optional(),
      not: Condition.optional(),
    })
    .refine((c) => Object.values(c).some((v) => v !== undefined), {
      message: 'a condition needs at least one field',
    }),
);

export const FilterRules = z.strictObject({
  /** Also drop health checks and telemetry (DEFAULT_EXCLUDES). */
  defaults: z.boolean().default(true),
  /** When not empty, only pairs matching one of these are kept. */
  include: z.array(Condition).default([]),
  /** Pairs matching any of these are dropped. */
  exclude: z.array(Condition).default([]),
  /** Fraction of the remaining pairs kept, decided by a hash of the pair id (so it is repeatable). */
  sampleRate: z.number().min(0).max(1).default(1),
});
export type FilterRules = z.infer<typeof FilterRules>;
export type FilterRulesInput = z.input<typeof FilterRules>;
