/**
 * One resolution of event names, used identically by publish and subscribe (lesson 3): every
 * spelling of an event maps to its one canonical name before anything else happens.
 *
 * Accepted without a warning: the canonical name and the wire value, in upper or lower case.
 * Accepted with one warning per spelling per process: the original's alias table and the stage
 * event names and values, in upper or lower case. An alias that would rename a real event (the
 * original mapped `PBT_COMPLETED` onto `PBT_GENERATION_COMPLETE`, merging two events) is not
 * applied: the real event keeps its name, and the conflict is listed in `ALIAS_CONFLICTS`.
 */
import { UnknownEventTypeError } from '../errors.js';
import { ORIGINAL_ALIASES } from './alias-table.js';
import { CATALOG, EVENT_DEFINITIONS, type EventName } from './catalog/index.js';
import { STAGE_EVENTS, STAGE_TO_DATA, type StageEventName } from './stage-events.js';

export interface Resolution {
  readonly name: EventName;
  /** True when the input was an alias that should be replaced by the canonical name. */
  readonly deprecated: boolean;
}

export interface AliasConflict {
  readonly variant: string;
  /** Where the original's table pointed the variant. */
  readonly ignoredTarget: string;
  /** The real event the variant names, which wins. */
  readonly resolvesTo: EventName;
}

const table = new Map<string, Resolution>();
const conflicts: AliasConflict[] = [];
/** Every accepted spelling per canonical event (for matching rows written by other processes). */
const spellings = new Map<EventName, string[]>();
/** Deprecated spellings per canonical event, for the catalog document. */
const aliasesOf = new Map<EventName, Set<string>>();

function caseVariants(s: string): string[] {
  return [s, s.toUpperCase(), s.toLowerCase()];
}

for (const def of EVENT_DEFINITIONS) {
  const name = def.name as EventName;
  for (const spelling of [...caseVariants(def.name), ...caseVariants(def.value)]) {
    const existing = table.get(spelling);
    if (existing && existing.name !== name) {
      // Two catalog entries sharing a spelling would make the catalog itself ambiguous.
      throw new Error(`catalog defect: '${spelling}' names both ${existing.name} and ${name}`);
    }
    table.set(spelling, { name, deprecated: false });
  }
}

function addAlias(variant: string, target: string): void {
  if (!(target in CATALOG)) {
    throw new Error(`catalog defect: alias '${variant}' points to unknown event '${target}'`);
  }
  const name = target as EventName;
  for (const spelling of caseVariants(variant)) {
    const existing = table.get(spelling);
    if (existing) {
      if (existing.name !== name && !conflicts.some((c) => c.variant === spelling)) {
        conflicts.push({ variant: spelling, ignoredTarget: name, resolvesTo: existing.name });
      }
      continue;
    }
    table.set(spelling, { name, deprecated: true });
    let set = aliasesOf.get(name);
    if (!set) {
      set = new Set();
      aliasesOf.set(name, set);
    }
    set.add(spelling);
  }
}

for (const [variant, canonical] of ORIGINAL_ALIASES) addAlias(variant, canonical);
for (const stage of Object.keys(STAGE_EVENTS) as StageEventName[]) {
  addAlias(stage, STAGE_TO_DATA[stage]);
  addAlias(STAGE_EVENTS[stage], STAGE_TO_DATA[stage]);
}

for (const [spelling, res] of table) {
  let list = spellings.get(res.name);
  if (!list) {
    list = [];
    spellings.set(res.name, list);
  }
  list.push(spelling);
}

/** Aliases from the original's table that were not applied because they would rename a real event. */
export const ALIAS_CONFLICTS: readonly AliasConflict[] = Object.freeze(conflicts);

/**
 * Resolves any accepted spelling to its canonical name.
 * @throws {UnknownEventTypeError} with up to three suggestions.
 * @example
 * resolveEventType('new_games') // { name: 'NEW_GAMES_AVAILABLE', deprecated: false }
 * resolveEventType('sync_complete') // { name: 'DATA_SYNC_COMPLETED', deprecated: true }
 */
export function resolveEventType(input: string): Resolution {
  const hit = table.get(input);
  if (hit) return hit;
  throw new UnknownEventTypeError(String(input), suggestEventTypes(String(input)));
}

/** Deprecated spellings that resolve to this event (case variants included), sorted. */
export function aliasesFor(name: EventName): readonly string[] {
  return [...(aliasesOf.get(name) ?? [])].sort();
}

/** Every spelling that resolves to this event, canonical and deprecated (for SQL `IN` lists). */
export function spellingsOf(name: EventName): readonly string[] {
  return spellings.get(name) ?? [name];
}

/** Up to `limit` canonical names closest to a misspelling. */
export function suggestEventTypes(input: string, limit = 3): string[] {
  const needle = input.toUpperCase();
  const scored: { name: EventName; score: number }[] = [];
  const best = new Map<EventName, number>();
  for (const [spelling, res] of table) {
    const score = distance(needle, spelling.toUpperCase());
    const prev = best.get(res.name);
    if (prev === undefined || score < prev) best.set(res.name, score);
  }
  for (const [name, score] of best) scored.push({ name, score });
  const maxDistance = Math.max(3, Math.floor(needle.length / 3));
  return scored
    .filter((s) => s.score <= maxDistance)
    .sort((a, b) => a.score - b.score || a.name.localeCompare(b.name))
    .slice(0, limit)
    .map((s) => s.name);
}

/** Levenshtein distance; only runs on the error path. */
function distance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
