/**
 * A zod schema as a Kubernetes structural OpenAPI v3 schema (what a CRD's openAPIV3Schema must
 * be): z.toJSONSchema's OpenAPI 3.0 output, then made structural. Every node gets a type, or
 * `x-kubernetes-preserve-unknown-fields` where zod's type is open (unknown, or a union of
 * different types); a union of objects becomes one object with every variant's fields; what
 * structural schemas forbid (`additionalProperties: false`, `$ref`) goes. Defaults are left out
 * on purpose: the mutating webhook spells out the few the stored spec shows, the workflow
 * applies the rest, so what users read back from the API server does not change.
 * The schema gates what it can; the validating webhook checks the rest with the zod schema itself.
 */
import { z } from 'zod';

export interface JsonSchema {
  type?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  enum?: unknown[];
  nullable?: boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  [keyword: string]: unknown;
}

const OPEN = 'x-kubernetes-preserve-unknown-fields';
/** Keywords dropped wherever they appear (see the module comment for why). */
const DROPPED = new Set(['$schema', 'default', 'id']);
/** Keywords the structural rules do not allow here, or that zod adds without meaning. */
const UNSUPPORTED = ['$ref', '$defs', 'definitions', 'allOf', 'not', 'const'];

/** The structural schema of a zod type, as its input is written (defaults make fields optional). */
export function structuralSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input', target: 'openapi-3.0', reused: 'inline' });
  return toStructural(json as JsonSchema, '');
}

export function toStructural(node: JsonSchema, at: string): JsonSchema {
  for (const k of UNSUPPORTED)
    if (k in node) throw new Error(`${at || '(root)'}: "${k}" has no place in a structural schema`);
  const variants = node.anyOf ?? node.oneOf;
  if (variants) {
    const merged = mergeVariants(
      variants.map((v, i) => toStructural(v, `${at}[variant ${i}]`)),
      at,
    );
    return withDescription(merged, node.description);
  }
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(node)) {
    if (DROPPED.has(k)) continue;
    if (k === 'properties') out.properties = mapValues(v as Record<string, JsonSchema>, at);
    else if (k === 'items') out.items = toStructural(v as JsonSchema, `${at}[]`);
    else if (k === 'additionalProperties') {
      // false: unknown fields are pruned by the API server (and refused by kubectl's strict validation).
      if (typeof v === 'object') out.additionalProperties = toStructural(v as JsonSchema, `${at}.*`);
    } else out[k] = v;
  }
  // z.int() says its range is the safe integers: true, and noise in a CRD.
  if (out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
  if (out.minimum === Number.MIN_SAFE_INTEGER) delete out.minimum;
  // A format the API server checks (date-time) stands for zod's long regex of the same.
  if (out.format !== undefined) delete out.pattern;
  if (out.type === undefined && out[OPEN] !== true) return withDescription({ [OPEN]: true }, out.description);
  return withDescription(out, out.description);
}

function mapValues(props: Record<string, JsonSchema>, at: string): Record<string, JsonSchema> {
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, toStructural(v, `${at}.${k}`)]));
}

/** Keys written first, in this order, as people write CRDs. */
const FIRST = ['description', 'type', 'required'];

/** The node with this description (if any), its keys in reading order. */
function withDescription(node: JsonSchema, description: string | undefined): JsonSchema {
  const out: JsonSchema = description === undefined ? {} : { description };
  for (const k of FIRST) if (node[k] !== undefined && out[k] === undefined) out[k] = node[k];
  for (const [k, v] of Object.entries(node)) if (!FIRST.includes(k)) out[k] = v;
  return out;
}

/**
 * One schema that admits what any variant admits: same type everywhere, else open. Objects get
 * every variant's properties (merged where several have one), required only where all agree;
 * enums are joined; any other keyword stays only when every variant says the same.
 */
function mergeVariants(variants: JsonSchema[], at: string): JsonSchema {
  const types = new Set(variants.map((v) => v.type));
  const [type] = types;
  if (types.size !== 1 || type === undefined) return { [OPEN]: true };
  const [first, ...rest] = variants;
  const out: JsonSchema = { type };
  for (const [k, v] of Object.entries(first)) {
    if (['type', 'properties', 'required', 'items', 'enum', 'nullable', 'description'].includes(k)) continue;
    if (rest.every((r) => JSON.stringify(r[k]) === JSON.stringify(v))) out[k] = v;
  }
  const description = variants.find((v) => v.description)?.description;
  if (description) out.description = description;
  if (variants.every((v) => v.enum)) out.enum = [...new Set(variants.flatMap((v) => v.enum!))];
  if (variants.some((v) => v.nullable)) out.nullable = true;
  if (type === 'array') {
    const items = variants.map((v) => v.items).filter((i): i is JsonSchema => i !== undefined);
    if (items.length) out.items = mergeVariants(items, `${at}[]`);
  }
  if (type === 'object') {
    const names = [...new Set(variants.flatMap((v) => Object.keys(v.properties ?? {})))];
    if (names.length) {
      out.properties = Object.fromEntries(
        names.map((n) => {
          const each = variants.map((v) => v.properties?.[n]).filter((p): p is JsonSchema => !!p);
          return [n, each.length === 1 ? each[0] : mergeVariants(each, `${at}.${n}`)];
        }),
      );
    }
    const required = (first.required ?? []).filter((r) => rest.every((v) => v.required?.includes(r)));
    if (required.length) out.required = required;
  }
  return withDescription(out, out.description);
}

/** Every node names a type or is open: the rule the API server enforces, checked here first. */
export function untypedPaths(node: JsonSchema, at = ''): string[] {
  const own = node.type === undefined && node[OPEN] !== true ? [at || '(root)'] : [];
  return [
    ...own,
    ...Object.entries(node.properties ?? {}).flatMap(([k, v]) => untypedPaths(v, `${at}.${k}`)),
    ...(node.items ? untypedPaths(node.items, `${at}[]`) : []),
    ...(typeof node.additionalProperties === 'object'
      ? untypedPaths(node.additionalProperties, `${at}.*`)
      : []),
  ];
}
