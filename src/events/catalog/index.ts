/**
 * The complete catalog: the original's 352 `DataEventType` members plus the events this project
 * added (each marked with `added`), merged from the domain modules beside this file.
 */
import type { z } from 'zod';
import type { EventDefinition } from '../define-event.js';
import { clusterEvents } from './cluster.js';
import { curriculumEvents } from './curriculum.js';
import { dataEvents } from './data.js';
import { evaluationEvents } from './evaluation.js';
import { healthEvents } from './health.js';
import { lifecycleEvents } from './lifecycle.js';
import { modelEvents } from './model.js';
import { qualityEvents } from './quality.js';
import { trainingEvents } from './training.js';
import { workEvents } from './work.js';

export const CATALOG = {
  ...dataEvents,
  ...trainingEvents,
  ...evaluationEvents,
  ...modelEvents,
  ...curriculumEvents,
  ...qualityEvents,
  ...lifecycleEvents,
  ...workEvents,
  ...clusterEvents,
  ...healthEvents,
} as const;

/** A canonical event name (`TRAINING_COMPLETED`). */
export type EventName = keyof typeof CATALOG;

type SchemaOf<T extends EventName> = (typeof CATALOG)[T]['schema'];

/** The payload a handler receives: the schema's output with `timestamp` always set. */
export type PayloadOf<T extends EventName> = z.output<SchemaOf<T>> & { readonly timestamp: number };

/** What a publisher may pass: the schema's input (`timestamp` optional, extra keys allowed). */
export type PayloadInput<T extends EventName> = z.input<SchemaOf<T>>;

/** Every definition, in catalog order. */
export const EVENT_DEFINITIONS: readonly EventDefinition[] = Object.freeze(
  Object.values(CATALOG) as EventDefinition[],
);

/** Canonical names, in catalog order. */
export const EVENT_NAMES: readonly EventName[] = Object.freeze(Object.keys(CATALOG) as EventName[]);

const byName = new Map<string, EventDefinition>(EVENT_DEFINITIONS.map((d) => [d.name, d]));

/** The definition of a canonical name; `undefined` for anything else (no alias resolution). */
export function getEventDefinition(name: string): EventDefinition | undefined {
  return byName.get(name);
}

/** True when events of this canonical type go through the cross-process event log. */
export function isCrossProcess(name: EventName): boolean {
  return CATALOG[name].crossProcess;
}
