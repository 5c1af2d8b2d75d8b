/**
 * Checks of numeric options, shared by every factory that takes them, so that a bad value gets
 * the same clear error everywhere: `'handlerTimeoutMs' must be a positive integer (got -1)`.
 */
import { InvalidOptionError } from './errors.js';

/** `value`, or `fallback` when it is undefined; an integer above 0. */
export function positiveInt(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0)
    throw new InvalidOptionError(option, 'a positive integer', value);
  return value;
}

/** `value`, or `fallback` when it is undefined; an integer of 0 or more. */
export function nonNegativeInt(
  option: string,
  value: number | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0)
    throw new InvalidOptionError(option, 'a non-negative integer', value);
  return value;
}

/** `value`, or `fallback` when it is undefined; a finite number above 0. */
export function positiveNumber(
  option: string,
  value: number | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!(Number.isFinite(value) && value > 0))
    throw new InvalidOptionError(option, 'a positive number', value);
  return value;
}
