/**
 * Child process for the crash tests: opens a writer in the store its environment names
 * (REPRISE_STORE), appends pairs, says "ready" and waits to be SIGKILLed without sealing or
 * aborting. `big` appends ~24 MB of incompressible pairs, enough to start a multipart upload.
 * Usage: node crash-writer.js <home> <id> [big]
 */
import { randomBytes } from 'node:crypto';
import { openSnapshotStore } from '../../src/store/open.js';
import { pair } from './pairs.js';

const [home, id, size] = process.argv.slice(2);
const writer = await openSnapshotStore(home).createWriter({ id, service: 'orders', source: 'capture' });
const big = size === 'big';
for (let i = 0; i < (big ? 6000 : 5000); i++)
  await writer.append(big ? pair(i, { tags: { filler: randomBytes(3000).toString('base64') } }) : pair(i));
process.stdout.write('ready\n');
setInterval(() => {}, 60_000);
