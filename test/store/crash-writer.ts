/**
 * Child process for the crash test: opens a writer, appends pairs, says "ready" and waits
 * to be SIGKILLed without sealing or aborting. Usage: node crash-writer.js <home> <id>
 */
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import { pair } from './pairs.js';

const [home, id] = process.argv.slice(2);
const writer = await new FsSnapshotStore(home).createWriter({ id, service: 'orders', source: 'capture' });
for (let i = 0; i < 5000; i++) await writer.append(pair(i));
process.stdout.write('ready\n');
setInterval(() => {}, 60_000);
