import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  readmeCatalogLine,
  renderCatalogDoc,
  updateReadmeCount,
} from '../../src/events/catalog-doc.js';
import {
  ALIAS_CONFLICTS,
  CATALOG,
  EVENT_DEFINITIONS,
  GUIDE_EVENTS,
  getEventDefinition,
  isCrossProcess,
  resolveEventType,
  STAGE_EVENTS,
  STAGE_TO_DATA,
  UnknownEventTypeError,
} from '../../src/index.js';

const ref = (file: string) =>
  readFileSync(new URL(`../../reference/original/${file}`, import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .slice(file.endsWith('.tsv') ? 1 : 0)
    .map((line) => line.split('\t'));

describe('the event catalog', () => {
  it('has every one of the 352 original DataEventType members with its wire value', () => {
    const original = ref('data-event-types.tsv');
    expect(original).toHaveLength(352);
    for (const [name, value] of original) {
      const def = getEventDefinition(name as string);
      expect(def, name).toBeDefined();
      expect(def?.value, name).toBe(value);
      expect(def?.added, name).toBeUndefined();
    }
  });

  it('keeps the five legacy short wire values', () => {
    expect(CATALOG.NEW_GAMES_AVAILABLE.value).toBe('new_games');
    expect(CATALOG.DATA_SYNC_STARTED.value).toBe('sync_started');
    expect(CATALOG.DATA_SYNC_COMPLETED.value).toBe('sync_completed');
    expect(CATALOG.DATA_SYNC_FAILED.value).toBe('sync_failed');
    expect(CATALOG.TRAINING_THRESHOLD_REACHED.value).toBe('training_threshold');
  });

  it('marks every event it adds, with a reason', () => {
    const added = EVENT_DEFINITIONS.filter((d) => d.added).map((d) => d.name);
    expect(added.sort()).toEqual([
      'AGGRESSIVE_CURRICULUM_REQUESTED',
      'ALL_CRITICAL_DAEMONS_READY',
      'FORCED_REEVALUATION_REQUESTED',
      'ITERATION_COMPLETE',
      'STALL_RECOVERY_ESCALATED',
      'TRAINING_PAUSED',
      'TRAINING_RESUMED',
      'TRAINING_THRESHOLD_PENDING',
    ]);
    expect(EVENT_DEFINITIONS).toHaveLength(352 + added.length);
  });

  it('has all 21 stage events and maps each to one data event', () => {
    const stages = ref('stage-events.tsv');
    expect(stages).toHaveLength(21);
    const mapping = new Map(ref('stage-to-data.tsv').map(([v, d]) => [v, d]));
    for (const [name, value] of stages) {
      expect(STAGE_EVENTS[name as keyof typeof STAGE_EVENTS]).toBe(value);
      expect(STAGE_TO_DATA[name as keyof typeof STAGE_TO_DATA]).toBe(mapping.get(value as string));
    }
  });

  it('flags exactly the original cross-process set, plus the ones it adds with a reason', () => {
    const original = new Set(ref('cross-process-event-types.txt').map(([n]) => n));
    expect(original.size).toBe(35);
    const widened = EVENT_DEFINITIONS.filter((d) => d.crossProcessAdded).map((d) => d.name);
    expect(widened).toEqual([
      'TRAINING_EARLY_STOPPED',
      'MODEL_DISTRIBUTION_COMPLETE',
      'ADAPTIVE_PARAMS_CHANGED',
      'NODE_RECOVERED',
      'LEADER_ELECTED',
    ]);
    const addedAndCrossing = EVENT_DEFINITIONS.filter((d) => d.added && d.crossProcess);
    expect(addedAndCrossing.map((d) => d.name)).toEqual(['ALL_CRITICAL_DAEMONS_READY']);
    for (const def of EVENT_DEFINITIONS) {
      const expected =
        original.has(def.name) || widened.includes(def.name) || addedAndCrossing.includes(def);
      expect(def.crossProcess, def.name).toBe(expected);
    }
    expect(isCrossProcess('TRAINING_COMPLETED')).toBe(true);
    expect(isCrossProcess('TRAINING_PROGRESS')).toBe(false);
  });

  it('carries across hosts only what a subscriber on another host needs, each with its reason, all through the file', () => {
    const crossHost = EVENT_DEFINITIONS.filter((d) => d.crossHost !== undefined);
    expect(crossHost.map((d) => d.name).sort()).toEqual([
      'TRAINING_COMPLETED',
      'TRAINING_EARLY_STOPPED',
      'TRAINING_FAILED',
      'TRAINING_STARTED',
      'TRAINING_THRESHOLD_REACHED',
    ]);
    for (const def of crossHost) {
      expect(def.crossProcess, def.name).toBe(true); // the host's file is the cluster's outbox
      expect(def.crossHost?.length, def.name).toBeGreaterThan(20);
    }
  });

  it('has a precise schema with every field each of the 101 typed emitters writes', () => {
    const renamed: Record<string, string> = {
      config: 'config_key',
      checkpoint_path: 'model_path',
    };
    const emitters = ref('typed-emitters.tsv').filter(([, events]) => events);
    expect(emitters).toHaveLength(100); // plus the generic emit_data_event
    for (const [fn, events, keys] of emitters) {
      for (const type of (events as string).split(',')) {
        const def = getEventDefinition(type);
        expect(def?.precise, `${fn} -> ${type}`).toBe(true);
        for (const key of (keys as string).split(',')) {
          if (key === 'timestamp') continue;
          expect(def?.fields, `${fn} writes ${key}`).toContain(renamed[key] ?? key);
        }
      }
    }
  });

  it('has a precise schema for every event of the guide tables', () => {
    expect(GUIDE_EVENTS).toHaveLength(35);
    for (const type of GUIDE_EVENTS) expect(getEventDefinition(type)?.precise, type).toBe(true);
  });

  it('resolves every alias of the original table, in upper and lower case, to its canonical event', () => {
    const conflicts = new Set(ALIAS_CONFLICTS.map((c) => c.variant));
    const aliases = ref('event-aliases.tsv');
    expect(aliases).toHaveLength(128);
    for (const [variant, canonical] of aliases) {
      for (const spelling of [variant, variant?.toUpperCase(), variant?.toLowerCase()]) {
        if (conflicts.has(spelling as string)) continue;
        expect(resolveEventType(spelling as string).name, spelling).toBe(canonical);
      }
    }
  });

  it('never lets an alias rename a real event (PBT_COMPLETED stays itself)', () => {
    expect(resolveEventType('PBT_COMPLETED').name).toBe('PBT_COMPLETED');
    expect(resolveEventType('pbt_completed').name).toBe('PBT_COMPLETED');
    expect(resolveEventType('pbt_complete').name).toBe('PBT_GENERATION_COMPLETE');
    expect(ALIAS_CONFLICTS.map((c) => c.variant).sort()).toEqual([
      'PBT_COMPLETED',
      'pbt_completed',
    ]);
  });

  it('resolves name and wire value, in either case, without a deprecation', () => {
    for (const def of EVENT_DEFINITIONS) {
      for (const s of [def.name, def.name.toLowerCase(), def.value, def.value.toUpperCase()]) {
        expect(resolveEventType(s), s).toEqual({ name: def.name, deprecated: false });
      }
    }
  });

  it('rejects an unknown name with up to three suggestions', () => {
    const error = (() => {
      try {
        resolveEventType('TRAINING_COMPLETE_D');
      } catch (e) {
        return e as UnknownEventTypeError;
      }
    })();
    expect(error).toBeInstanceOf(UnknownEventTypeError);
    expect(error?.name).toBe('UnknownEventTypeError');
    expect(error?.suggestions[0]).toBe('TRAINING_COMPLETED');
    expect(error?.suggestions.length).toBeLessThanOrEqual(3);
    expect(error?.message).toMatch(
      /^unknown event type 'TRAINING_COMPLETE_D'; did you mean 'TRAINING_COMPLETED'/,
    );
    expect(() => resolveEventType('qqqqqqqq')).toThrow(
      "unknown event type 'qqqqqqqq'; see docs/EVENT_CATALOG.md for the catalog",
    );
  });
});

describe('docs/EVENT_CATALOG.md', () => {
  it('is up to date with the catalog (run `npm run catalog:docs` to regenerate)', () => {
    const committed = readFileSync(new URL('../../docs/EVENT_CATALOG.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderCatalogDoc());
  });

  it("the README's event count is the catalog's (generated by `npm run catalog:docs`)", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(readmeCatalogLine());
    expect(updateReadmeCount(readme)).toBe(readme);
  });
});
