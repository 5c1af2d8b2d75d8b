/**
 * Turning what a publisher passed into the payload every subscriber receives: one walk that copies
 * plain JSON data, refuses anything else and bounds its serialised size; the key normalisation
 * that fixes the original's drift (`config` -> `config_key`, `checkpoint_path` -> `model_path`);
 * schema validation; the size limit; and a deep freeze so that one subscriber cannot change what
 * the next one sees.
 */
import { EventValidationError, PayloadTooLargeError, type ValidationIssue } from '../errors.js';
import type { EventDefinition } from './define-event.js';

/** Keys that could reach an object's prototype if a consumer merged the payload naively. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Input keys renamed to their canonical spelling (the original used both for the same field). */
const KEY_RENAMES: readonly (readonly [from: string, to: string])[] = [
  ['config', 'config_key'],
  ['checkpoint_path', 'model_path'],
];

/** Lower and upper bounds of a value's JSON size in UTF-8 bytes, gathered while copying it. */
interface SizeBounds {
  min: number;
  max: number;
}

/** Room for the `timestamp` the envelope may add after the copy was measured. */
const TIMESTAMP_ALLOWANCE = 40;

/** The largest payload publish accepts, as JSON bytes (the router's and event log's default). */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

/**
 * Returns the payload subscribers receive: validated, normalised, deeply frozen, `timestamp` set.
 * @throws {EventValidationError} when the payload is not plain JSON data or fails the schema.
 * @throws {PayloadTooLargeError} when its JSON is larger than `maxBytes`.
 */
export function preparePayload(
  def: EventDefinition,
  raw: unknown,
  nowSeconds: number,
  maxBytes: number,
): Readonly<Record<string, unknown>> {
  const issues: ValidationIssue[] = [];
  const size: SizeBounds = { min: 0, max: TIMESTAMP_ALLOWANCE };
  const copy = raw == null ? {} : copyJson(raw, '', issues, 0, size);
  if (issues.length > 0) throw new EventValidationError(def.name, issues);
  if (copy === null || typeof copy !== 'object' || Array.isArray(copy)) {
    throw new EventValidationError(def.name, [
      { path: '', message: `must be an object (got ${kindOf(raw)})` },
    ]);
  }
  const obj = copy as Record<string, unknown>;
  renameKeys(def.name, obj);

  const parsed = def.schema.safeParse(obj);
  if (!parsed.success) {
    throw new EventValidationError(
      def.name,
      parsed.error.issues.map((i) => ({
        path: i.path.map(String).join('.'),
        message: describeIssue(i, obj),
      })),
    );
  }
  const payload = parsed.data as Record<string, unknown>;
  if (payload.timestamp === undefined) payload.timestamp = nowSeconds;

  // Serialising every payload just to measure it would be the most expensive step of a publish;
  // the bounds gathered during the copy settle almost every case, JSON only the borderline ones.
  if (size.min > maxBytes) throw new PayloadTooLargeError(def.name, size.min, maxBytes);
  if (size.max > maxBytes) {
    const bytes = Buffer.byteLength(JSON.stringify(payload), 'utf8');
    if (bytes > maxBytes) throw new PayloadTooLargeError(def.name, bytes, maxBytes);
  }
  return deepFreeze(payload);
}

function renameKeys(eventType: string, obj: Record<string, unknown>): void {
  for (const [from, to] of KEY_RENAMES) {
    if (!Object.hasOwn(obj, from) || typeof obj[from] !== 'string') continue;
    const value = obj[from];
    if (Object.hasOwn(obj, to) && obj[to] !== value) {
      throw new EventValidationError(eventType, [
        {
          path: from,
          message: `'${from}' (${JSON.stringify(value)}) and '${to}' (${JSON.stringify(obj[to])}) disagree; send only '${to}'`,
        },
      ]);
    }
    obj[to] = value;
    delete obj[from];
  }
}

/**
 * Copies JSON data (plain objects, arrays, strings, finite numbers, booleans, null) and adds the
 * bounds of its serialised size to `size`: a UTF-16 unit takes 1 to 6 bytes in JSON (an escaped
 * control character is `\u00XX`), a number 1 to 25.
 */
function copyJson(
  value: unknown,
  path: string,
  issues: ValidationIssue[],
  depth: number,
  size: SizeBounds,
): unknown {
  if (typeof value === 'string') {
    size.min += value.length + 2;
    size.max += value.length * 6 + 2;
    return value;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      issues.push({ path, message: `must be a finite number (got ${value})` });
    }
    size.min += 1;
    size.max += 25;
    return value;
  }
  if (value === null || typeof value === 'boolean') {
    size.min += 4;
    size.max += 5;
    return value;
  }
  if (depth > 64) {
    issues.push({ path, message: 'is nested more than 64 levels deep (a cycle?)' });
    return null;
  }
  if (Array.isArray(value)) {
    size.min += 1 + value.length;
    size.max += 2 + value.length;
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      out[i] = copyJson(value[i], join(path, String(i)), issues, depth + 1, size);
    }
    return out;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      issues.push({ path, message: `must be JSON data (got ${kindOf(value)})` });
      return null;
    }
    size.min += 1;
    size.max += 2;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key];
      if (FORBIDDEN_KEYS.has(key)) {
        issues.push({ path: join(path, key), message: `key '${key}' is not allowed in a payload` });
        continue;
      }
      if (child === undefined) continue; // JSON drops it too: in-process and cross-process agree
      size.min += key.length + 3; // quotes, colon, and a comma or brace
      size.max += key.length * 6 + 4;
      out[key] = copyJson(child, join(path, key), issues, depth + 1, size);
    }
    return out;
  }
  issues.push({ path, message: `must be JSON data (got ${kindOf(value)})` });
  return null;
}

function describeIssue(
  issue: { code: string; message: string; path: PropertyKey[] },
  obj: Record<string, unknown>,
): string {
  let got: unknown = obj;
  for (const key of issue.path) {
    got =
      got !== null && typeof got === 'object'
        ? (got as Record<PropertyKey, unknown>)[key]
        : undefined;
  }
  if (got === undefined) return 'required (missing)';
  return `${issue.message} (got ${kindOf(got) === 'string' ? JSON.stringify(got) : kindOf(got)})`;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') {
    const ctor = Object.getPrototypeOf(value)?.constructor?.name;
    return ctor && ctor !== 'Object' ? ctor : 'object';
  }
  if (typeof value === 'number') return String(value);
  return typeof value;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** Freezes a tree this module built itself: fresh objects, no cycles, no shared nodes. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const key in value) {
      const child = value[key];
      if (child !== null && typeof child === 'object') deepFreeze(child);
    }
    Object.freeze(value);
  }
  return value;
}
