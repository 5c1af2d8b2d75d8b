import { describe, expect, it } from 'vitest';
import { preparePayload } from '../../src/events/payload.js';
import { CATALOG, EventValidationError, PayloadTooLargeError } from '../../src/index.js';

const NOW = 1_750_000_000;
const prep = (type: keyof typeof CATALOG, raw: unknown, max = 1024 * 1024) =>
  preparePayload(CATALOG[type], raw, NOW, max);
const validationError = (fn: () => unknown): EventValidationError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof EventValidationError) return e;
    throw e;
  }
  throw new Error('expected an EventValidationError');
};

describe('preparePayload()', () => {
  it('names the event and the missing field (the key whose absence blocked promotions)', () => {
    const e = validationError(() =>
      prep('EVALUATION_COMPLETED', { elo: 1500, games_played: 100, win_rate: 0.6 }),
    );
    expect(e.eventType).toBe('EVALUATION_COMPLETED');
    expect(e.issues).toEqual([{ path: 'config_key', message: 'required (missing)' }]);
    expect(e.message).toBe(
      "event 'EVALUATION_COMPLETED' payload is invalid: 'config_key': required (missing)",
    );
  });

  it('names a nested field path and what it got', () => {
    const e = validationError(() =>
      prep('CURRICULUM_REBALANCED', {
        config_key: 'hex8_2p',
        old_weights: { a: 1 },
        new_weights: { a: 'heavy' },
      }),
    );
    expect(e.issues[0]?.path).toBe('new_weights.a');
    expect(e.issues[0]?.message).toContain('"heavy"');
  });

  it("normalises the original's `config` to `config_key`", () => {
    const payload = prep('TRAINING_STARTED', { config: 'sq8_2p' });
    expect(payload.config_key).toBe('sq8_2p');
    expect(payload).not.toHaveProperty('config');
  });

  it('normalises `checkpoint_path` to `model_path`', () => {
    const payload = prep('CHECKPOINT_SAVED', { config_key: 'x', checkpoint_path: '/m/x.pth' });
    expect(payload.model_path).toBe('/m/x.pth');
    expect(payload).not.toHaveProperty('checkpoint_path');
  });

  it('refuses `config` and `config_key` that disagree', () => {
    const e = validationError(() => prep('TRAINING_STARTED', { config: 'a', config_key: 'b' }));
    expect(e.issues[0]?.path).toBe('config');
    expect(e.message).toContain("send only 'config_key'");
  });

  it('sets timestamp when omitted and converts an ISO-8601 string to Unix seconds', () => {
    expect(prep('TRAINING_PROGRESS', {}).timestamp).toBe(NOW);
    expect(prep('TRAINING_PROGRESS', { timestamp: '2026-01-01T00:00:00Z' }).timestamp).toBe(
      1_767_225_600,
    );
    expect(prep('TRAINING_PROGRESS', { timestamp: 12.5 }).timestamp).toBe(12.5);
  });

  it('refuses a timestamp in milliseconds instead of guessing', () => {
    const e = validationError(() => prep('TRAINING_PROGRESS', { timestamp: Date.now() }));
    expect(e.issues[0]?.path).toBe('timestamp');
    expect(e.issues[0]?.message).toContain('milliseconds');
  });

  it('accepts a missing payload as an empty one for open events (guide: check for None payloads)', () => {
    expect(prep('TRAINING_PROGRESS', undefined)).toEqual({ timestamp: NOW });
    expect(prep('TRAINING_PROGRESS', null)).toEqual({ timestamp: NOW });
  });

  it('keeps fields the schema does not know (the original emitters add extras)', () => {
    const payload = prep('TRAINING_STARTED', { config_key: 'x', gpu: 'a100' });
    expect(payload.gpu).toBe('a100');
  });

  it('refuses __proto__, constructor and prototype keys at any depth, and pollutes nothing', () => {
    const raw = JSON.parse('{"config_key":"x","nested":{"__proto__":{"polluted":true}}}');
    const e = validationError(() => prep('TRAINING_STARTED', raw));
    expect(e.issues[0]?.path).toBe('nested.__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(() => prep('TRAINING_STARTED', { config_key: 'x', constructor: 1 })).toThrow(
      "key 'constructor' is not allowed",
    );
  });

  it('refuses what is not JSON data, so in-process and cross-process deliveries agree', () => {
    expect(validationError(() => prep('TRAINING_PROGRESS', { at: new Date() })).issues[0]).toEqual({
      path: 'at',
      message: 'must be JSON data (got Date)',
    });
    expect(
      validationError(() => prep('TRAINING_PROGRESS', { n: Number.NaN })).issues[0]?.path,
    ).toBe('n');
    expect(
      validationError(() => prep('TRAINING_PROGRESS', { f: () => 1 })).issues[0]?.message,
    ).toBe('must be JSON data (got function)');
    expect(validationError(() => prep('TRAINING_PROGRESS', [1, 2])).issues[0]?.message).toBe(
      'must be an object (got array)',
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(validationError(() => prep('TRAINING_PROGRESS', cyclic)).message).toContain('64 levels');
  });

  it('refuses a payload over the size limit, counting UTF-8 bytes', () => {
    expect(() => prep('TRAINING_PROGRESS', { blob: 'x'.repeat(2000) }, 1000)).toThrow(
      PayloadTooLargeError,
    );
    // 400 three-byte characters: 400 UTF-16 units but 1200 bytes.
    expect(() => prep('TRAINING_PROGRESS', { blob: '€'.repeat(400) }, 1000)).toThrow(
      /payload is 1\d{3} bytes serialised, over the limit of 1000 bytes/,
    );
    expect(() => prep('TRAINING_PROGRESS', { blob: '€'.repeat(200) }, 1000)).not.toThrow();
    // Control characters serialise as \u00XX, six bytes each.
    expect(() => prep('TRAINING_PROGRESS', { blob: '\u0001'.repeat(200) }, 1000)).toThrow(
      PayloadTooLargeError,
    );
    expect(() => prep('TRAINING_PROGRESS', { blob: '\u0001'.repeat(150) }, 1000)).not.toThrow();
  });

  it('returns a deeply frozen copy: the caller and subscribers cannot change what others see', () => {
    const raw = { config_key: 'x', tags: ['a'] };
    const payload = prep('TRAINING_STARTED', raw);
    raw.tags.push('b');
    expect(payload.tags).toEqual(['a']);
    expect(Object.isFrozen(payload)).toBe(true);
    expect(Object.isFrozen(payload.tags)).toBe(true);
  });
});
