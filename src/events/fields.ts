/**
 * Field builders for payload schemas, named after the Python types of the original emitters so
 * that a catalog entry reads like the emitter it came from.
 */
import { z } from 'zod';
import { CONFIG_KEY_PATTERN, CONFIG_KEY_RULE } from './config-key.js';

/** Largest number accepted as Unix seconds; anything above is almost surely milliseconds. */
const MAX_UNIX_SECONDS = 1e11;

/**
 * `timestamp` on every payload: Unix seconds. An ISO-8601 string (the original's drift) is
 * accepted and converted; a value that looks like milliseconds is refused rather than guessed.
 * Optional on input: the envelope fills it in when the caller leaves it out.
 */
export const timestampField = z
  .union([
    z
      .number()
      .nonnegative()
      .refine((n) => Number.isFinite(n) && n < MAX_UNIX_SECONDS, {
        message: 'must be Unix seconds (a value this large looks like milliseconds)',
      }),
    z.string().transform((s, ctx) => {
      const ms = Date.parse(s);
      if (Number.isNaN(ms)) {
        ctx.addIssue({ code: 'custom', message: `must be Unix seconds or ISO-8601 (got '${s}')` });
        return z.NEVER;
      }
      return ms / 1000;
    }),
  ])
  .optional();

export const fields = {
  /** A required string says something: empty is refused (`"host": ""` is not a host). */
  str: z.string().min(1, 'must not be empty'),
  /** Free text that may be empty (a message, a reason left blank). */
  text: z.string(),
  /** A config key, by the one rule (see config-key.ts): it becomes argv elements and paths. */
  configKey: z.string().regex(CONFIG_KEY_PATTERN, `must be ${CONFIG_KEY_RULE}`),
  int: z.number().int(),
  num: z.number(),
  bool: z.boolean(),
  strList: z.array(z.string()),
  record: z.record(z.string(), z.unknown()),
  numRecord: z.record(z.string(), z.number()),
  unknown: z.unknown(),
} as const;
