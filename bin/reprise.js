#!/usr/bin/env node
// The `reprise` command. The TypeScript sources are compiled by `npm run build` (run by
// `npm ci` through the prepare script); this shim only finds the compiled entry.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('reprise: not built yet; run `npm run build` in the Reprise checkout\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);
