/**
 * Endpoints are method + path template: path segments that look like ids become `{id}`, so
 * `/orders/42` and `/orders/97` are one row in the report.
 */

const ID_SEGMENT = [
  /^\d+$/, // 42
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, // uuid
  /^(?=.*\d)[0-9a-f]{8,}$/i, // hex ids, Mongo ObjectIds, hashes
  /^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_-]{16,}$/, // long opaque tokens (ulid, nanoid, base64url)
];

export function isIdSegment(segment: string): boolean {
  return ID_SEGMENT.some((re) => re.test(segment));
}

export function pathTemplate(path: string): string {
  return path
    .split('/')
    .map((s) => (s !== '' && isIdSegment(s) ? '{id}' : s))
    .join('/');
}

export function endpointKey(method: string, path: string): string {
  return `${method.toUpperCase()} ${pathTemplate(path)}`;
}
