/** `npm run gen:crd`: writes charts/reprise/crds/trafficreplays.yaml from the zod schemas. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/base/project-root.js';
import { CRD_FILE, renderTrafficReplayCrd } from './traffic-replay-crd.js';

writeFileSync(CRD_FILE, await renderTrafficReplayCrd());
process.stdout.write(`wrote ${path.relative(projectRoot, CRD_FILE)}\n`);
