/**
 * Compiles the configured transforms into edits of a draft request. They run in the order
 * given, once per recorded request when the plan is built; what depends on the send time
 * (date-shift, jwt-resign) leaves slots that are filled as each request goes out.
 */
import type { Transform } from '../../config/replay.js';
import { compileDateShift, type CaptureWindow } from './date-shift.js';
import type { DraftRequest } from './draft.js';
import { compileHeader } from './header.js';
import { compileHost } from './host.js';
import { compileJwtResign } from './jwt-resign.js';
import { compileReplace } from './replace.js';
import type { ValueSources } from './vars.js';

export type RequestTransform = (draft: DraftRequest) => void;

export interface TransformContext extends ValueSources {
  window: CaptureWindow;
}

export function compileTransforms(list: readonly Transform[], ctx: TransformContext): RequestTransform[] {
  return list.map((spec, i) => {
    const field = `transforms[${i}]`;
    switch (spec.type) {
      case 'header':
        return compileHeader(spec, ctx, field);
      case 'host':
        return compileHost(spec, ctx, field);
      case 'replace':
        return compileReplace(spec, ctx, field);
      case 'date-shift':
        return compileDateShift(spec, ctx.window);
      case 'jwt-resign':
        return compileJwtResign(spec, ctx, field);
    }
  });
}

export type { DraftRequest } from './draft.js';
export type { SendContext } from './text.js';
