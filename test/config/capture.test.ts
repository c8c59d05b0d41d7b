/** captureWorkflow's input schema: defaults, and errors that name the field. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureDurationMs, CaptureInputError, validateCaptureInput } from '../../src/config/capture.js';

function errorOf(input: unknown): CaptureInputError {
  try {
    validateCaptureInput(input);
  } catch (err) {
    assert.ok(err instanceof CaptureInputError);
    return err;
  }
  return assert.fail('expected a CaptureInputError');
}

describe('validateCaptureInput', () => {
  it('fills in the documented defaults', () => {
    const config = validateCaptureInput({ target: { appPort: 8080 } });
    assert.deepEqual(config, {
      service: 'app',
      target: { appPort: 8080, appHost: '127.0.0.1', inPort: 4143, outPort: 4140, tlsIntercept: false },
    });
    assert.equal(captureDurationMs(config), undefined);
  });

  it('keeps what the caller gave, and treats null rules as not given', () => {
    const config = validateCaptureInput({
      service: 'checkout',
      target: { appPort: 8080, appHost: 'localhost', inPort: 0, outPort: -1, tlsIntercept: true },
      duration: '1m30s',
      snapshotId: 'snap-checkout-1',
      filters: null,
      dlp: false,
      maxBodyBytes: 4096,
    });
    assert.equal(config.target.inPort, 0);
    assert.equal(config.target.outPort, -1);
    assert.equal(config.dlp, false);
    assert.equal(config.filters, null);
    assert.equal(captureDurationMs(config), 90_000);
  });

  it('applies the filter and DLP schemas to rules given as data', () => {
    const config = validateCaptureInput({
      target: { appPort: 1 },
      filters: { exclude: [{ path: '/internal/*' }] },
    });
    assert.equal(config.filters?.defaults, true);
    const err = errorOf({ target: { appPort: 1 }, dlp: { detectors: ['email', 'dna'] } });
    assert.deepEqual(err.fields, ['dlp.detectors.1']);
  });

  for (const [input, field, expected] of [
    [{ target: { appPort: 'abc' } }, 'target.appPort', /expected number/],
    [{ target: { appPort: 70000 } }, 'target.appPort', /<=65535/],
    [{ target: { appPort: 80, inPort: -1 } }, 'target.inPort', />=0/],
    [{ target: { appPort: 80 }, duration: '5 minutes' }, 'duration', /expected a duration/],
    [{ target: { appPort: 80 }, duration: '0s' }, 'duration', /above 0/],
    [{ target: { appPort: 80 }, service: 'a b' }, 'service', /letters, digits/],
    [{ target: { appPort: 80 }, snapshotId: 'a/../b' }, 'snapshotId', /letters, digits/],
    [{ target: { appPort: 80, tls: true } }, 'target.tls', /unknown field/],
    [{}, 'target', /expected object/],
  ] as const) {
    it(`names ${field} for ${JSON.stringify(input)}`, () => {
      const err = errorOf(input);
      assert.deepEqual(err.fields, [field]);
      assert.match(err.message, new RegExp(`^invalid capture input: ${field.replace(/\./g, '\\.')}: `));
      assert.match(err.message, expected);
    });
  }

  it('reports every bad field at once', () => {
    const err = errorOf({ target: { appPort: 'x', outPort: 'y' }, duration: 'soon' });
    assert.deepEqual(err.fields.sort(), ['duration', 'target.appPort', 'target.outPort']);
  });
});
