/** JSON Patch (RFC 6902) as the API server and the admission webhooks take it. */
export type JsonPatchOp =
  { op: 'add' | 'replace' | 'test'; path: string; value: unknown } | { op: 'remove'; path: string };

/** Escapes a key for a JSON Pointer (`capture.reprise.dev/inject` -> `capture.reprise.dev~1inject`). */
export const pointerKey = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');
