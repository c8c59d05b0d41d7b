/**
 * What the importer reads from a HAR 1.2 document. Deliberately lenient: browsers and
 * proxies leave fields out, write `null` or `-1`, and add `_private` fields (all ignored);
 * only what a pair cannot do without is required.
 */
import { z } from 'zod';
import { SERVICE_NAME_PATTERN } from '../base/ids.js';

/** Header and query values: some exporters write numbers or null. */
const Value = z
  .union([z.string(), z.number(), z.boolean(), z.null()])
  .optional()
  .transform((v) => (v === null || v === undefined ? '' : String(v)));

export const HarNameValue = z.object({ name: z.string({ error: 'expected a header name' }), value: Value });
export type HarNameValue = z.infer<typeof HarNameValue>;

const OptNumber = z.number().nullish();
const OptString = z.string().nullish();

export const HarParam = z.object({
  name: z.string({ error: 'expected a parameter name' }),
  value: Value,
  fileName: OptString,
  contentType: OptString,
});
export type HarParam = z.infer<typeof HarParam>;

export const HarPostData = z.object({
  mimeType: OptString,
  text: OptString,
  params: z.array(HarParam).nullish(),
  /** Not in HAR 1.2, but written by some tools (and by Reprise as `_encoding`) for binary bodies. */
  encoding: OptString,
  _encoding: OptString,
});
export type HarPostData = z.infer<typeof HarPostData>;

export const HarContent = z.object({
  size: OptNumber,
  mimeType: OptString,
  text: OptString,
  encoding: OptString,
});

export const HarEntry = z.object({
  startedDateTime: z
    .string({ error: 'expected an ISO 8601 date' })
    .refine((s) => !Number.isNaN(Date.parse(s)), { error: 'expected an ISO 8601 date' }),
  time: OptNumber,
  request: z.object(
    {
      method: z.string({ error: 'expected an HTTP method' }).min(1, { error: 'expected an HTTP method' }),
      url: z.string({ error: 'expected a URL' }).refine(URL.canParse, { error: 'expected a URL' }),
      httpVersion: OptString,
      headers: z.array(HarNameValue).nullish(),
      postData: HarPostData.nullish(),
    },
    { error: 'expected a request object' },
  ),
  response: z
    .object({
      status: z.number({ error: 'expected a status code' }).int({ error: 'expected an integer status code' }),
      statusText: OptString,
      httpVersion: OptString,
      headers: z.array(HarNameValue).nullish(),
      content: HarContent.nullish(),
      _error: OptString,
    })
    .nullish(),
  timings: z.record(z.string(), z.unknown()).nullish(),
  /** Written by Reprise's export: the side of the service the call was on. */
  _direction: z.enum(['inbound', 'outbound'], { error: 'expected "inbound" or "outbound"' }).nullish(),
});
export type HarEntry = z.infer<typeof HarEntry>;

export const HarLog = z.object(
  {
    log: z.object(
      {
        creator: z.object({ name: Value, version: Value }).nullish(),
        /** Written by Reprise's export: the snapshot's service. */
        _service: z
          .string()
          .regex(SERVICE_NAME_PATTERN, {
            error: "expected a service name of letters, digits, '.', '_' or '-'",
          })
          .nullish(),
        entries: z.array(z.unknown(), { error: 'expected an array of entries' }),
      },
      { error: 'expected the HAR log object' },
    ),
  },
  { error: 'expected a HAR 1.2 document (an object with a "log")' },
);
