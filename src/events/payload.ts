/**
 * Turning what a publisher passed into the payload every subscriber receives: one walk that copies
 * plain JSON data and refuses anything else, the key normalisation that fixes the original's drift
 * (`config` -> `config_key`, `checkpoint_path` -> `model_path`), schema validation, the size limit,
 * and a deep freeze so that one subscriber cannot change what the next one sees.
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

export interface PreparedPayload {
  /** Validated, normalised, deeply frozen. `timestamp` is set. */
  readonly payload: Readonly<Record<string, unknown>>;
  /** The payload's JSON, computed once for the size check and reused by the event log. */
  readonly json: string;
}

/**
 * @throws {EventValidationError} when the payload is not plain JSON data or fails the schema.
 * @throws {PayloadTooLargeError} when its JSON is larger than `maxBytes`.
 */
export function preparePayload(
  def: EventDefinition,
  raw: unknown,
  nowSeconds: number,
  maxBytes: number,
): PreparedPayload {
  const issues: ValidationIssue[] = [];
  const copy = raw == null ? {} : copyJson(raw, '', issues, 0);
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

  const json = JSON.stringify(payload);
  // UTF-8 is at least one byte per UTF-16 unit and at most three: only measure when it matters.
  if (json.length > maxBytes) throw new PayloadTooLargeError(def.name, json.length, maxBytes);
  if (json.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > maxBytes) throw new PayloadTooLargeError(def.name, bytes, maxBytes);
  }
  return { payload: deepFreeze(payload), json };
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

/** Copies JSON data (plain objects, arrays, strings, finite numbers, booleans, null). */
function copyJson(value: unknown, path: string, issues: ValidationIssue[], depth: number): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      issues.push({ path, message: `must be a finite number (got ${value})` });
    return value;
  }
  if (depth > 64) {
    issues.push({ path, message: 'is nested more than 64 levels deep (a cycle?)' });
    return null;
  }
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      out[i] = copyJson(value[i], join(path, String(i)), issues, depth + 1);
    }
    return out;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      issues.push({ path, message: `must be JSON data (got ${kindOf(value)})` });
      return null;
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key];
      if (FORBIDDEN_KEYS.has(key)) {
        issues.push({ path: join(path, key), message: `key '${key}' is not allowed in a payload` });
        continue;
      }
      if (child === undefined) continue; // JSON drops it too: in-process and cross-process agree
      out[key] = copyJson(child, join(path, key), issues, depth + 1);
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

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
