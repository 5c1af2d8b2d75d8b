/**
 * The checks of `ringrift-coord`'s options: each bad value is an InvalidOptionError naming the
 * option, the rule and what was given, which the CLI prints as one line with exit code 2.
 */
import { readFileSync } from 'node:fs';
import {
  type ClusterOptions,
  CONFIG_KEY_RULE,
  clusterFromFlags,
  InvalidOptionError,
  isValidConfigKey,
  type ResolvedCluster,
  resolveCluster,
} from '../index.js';

/** A whole number in [min, max]; `undefined` stays undefined. */
export function intOption(
  name: string,
  raw: string | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (raw === undefined) return undefined;
  const value = /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw new InvalidOptionError(
      name,
      max === Number.MAX_SAFE_INTEGER
        ? `a whole number of at least ${min}`
        : `a whole number from ${min} to ${max}`,
      raw,
    );
  return value;
}

/** `--configs a,b`: each key by the config-key rule, none twice. */
export function configKeys(raw: string): string[] {
  const keys = raw.split(',').map((k) => k.trim());
  for (const key of keys)
    if (!isValidConfigKey(key))
      throw new InvalidOptionError('--configs', `a list of ${CONFIG_KEY_RULE}`, key);
  const twice = keys.find((k, i) => keys.indexOf(k) !== i);
  if (twice !== undefined)
    throw new InvalidOptionError(
      '--configs',
      'a list without repeats (one chain per config)',
      twice,
    );
  return keys;
}

/** One of `choices`, or undefined. */
export function choice<T extends string>(
  name: string,
  raw: string | undefined,
  choices: readonly T[],
): T | undefined {
  if (raw === undefined) return undefined;
  if (!(choices as readonly string[]).includes(raw))
    throw new InvalidOptionError(name, choices.map((c) => `'${c}'`).join(' or '), raw);
  return raw as T;
}

/** One argv string is limited to 128 KiB, so a payload may also come from a file or stdin. */
export async function payloadText(raw: string, stdin: NodeJS.ReadableStream = process.stdin) {
  if (raw === '-') {
    let text = '';
    for await (const chunk of stdin) text += chunk;
    return text;
  }
  if (raw.startsWith('@')) {
    const path = raw.slice(1);
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new InvalidOptionError(
        '--payload',
        'JSON, @FILE or - (stdin)',
        `${raw} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
    }
  }
  return raw;
}

/** Parses a payload: an object, or an InvalidOptionError saying where the JSON broke. */
export function parsePayload(text: string): Record<string, unknown> {
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    throw new InvalidOptionError(
      '--payload',
      `JSON (${(error as Error).message})`,
      text.slice(0, 60),
    );
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload))
    throw new InvalidOptionError('--payload', 'a JSON object', text.slice(0, 60));
  return payload as Record<string, unknown>;
}

/**
 * The cluster to read (`cluster status`, `inspect --nats`): servers and name from the flags or
 * the environment, credentials from the environment. Reading needs no host of its own: a
 * placeholder satisfies the option rules.
 */
export function clusterToRead(nats: string, name: string | undefined): ResolvedCluster {
  return resolveCluster(
    clusterFromFlags(
      { nats, cluster: name, host: 'reader' },
      process.env,
      undefined,
    ) as ClusterOptions,
  );
}
