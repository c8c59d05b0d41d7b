/** The V8 flags the launchers give each worker (src/base/node-options.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { workerEnv, workerNodeFlags, workerNodeOptions } from '../../src/base/node-options.js';

describe('worker node options', () => {
  it('appends the worker flags to what NODE_OPTIONS already holds', () => {
    assert.deepEqual(workerNodeOptions('responder', '--enable-source-maps'), {
      NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=32',
    });
    assert.deepEqual(workerNodeOptions('forwarder', undefined), { NODE_OPTIONS: '--max-semi-space-size=4' });
  });

  it('adds nothing for a worker without flags, and keeps the rest of the environment', () => {
    assert.deepEqual(workerNodeOptions('generator', '--inspect'), {});
    assert.deepEqual(workerNodeFlags('generator'), []);
    const env = workerEnv('forwarder', { REPRISE_HOME: '/h', NODE_OPTIONS: '--trace-warnings' });
    assert.deepEqual(env, { REPRISE_HOME: '/h', NODE_OPTIONS: '--trace-warnings --max-semi-space-size=4' });
  });

  it('hands out copies: a caller cannot change the flags of the next launch', () => {
    workerNodeFlags('responder').push('--bogus');
    assert.deepEqual(workerNodeFlags('responder'), ['--max-semi-space-size=32']);
  });
});
