/**
 * How a catalog entry is declared: a wire value, an optional payload shape and flags. Each entry
 * becomes an {@link EventDefinition} with a ready zod schema, so validation at publish time is
 * one `safeParse` and the TypeScript payload type is inferred from the same object.
 */
import { z } from 'zod';
import { timestampField } from './fields.js';

/** The domains the catalog is grouped by (one module each under `catalog/`). */
export type EventDomain =
  | 'lifecycle'
  | 'quality'
  | 'training'
  | 'evaluation'
  | 'model'
  | 'curriculum'
  | 'data'
  | 'work'
  | 'cluster'
  | 'health';

/** What a catalog module writes for one event. */
export interface EventSpec {
  /** The wire value of the original `DataEventType` member (`training_completed`, `new_games`). */
  readonly value: string;
  /** True when the event crosses processes through the SQLite event log. */
  readonly crossProcess?: boolean;
  /** Set for events this project added to the original catalog: why. */
  readonly added?: string;
  /**
   * Set for an original event this project carries across processes although the original's
   * cross-process set did not: why. Implies `crossProcess`.
   */
  readonly crossProcessAdded?: string;
  /**
   * Set for an event the cluster bridge carries between hosts (through NATS JetStream): why a
   * subscriber on another host needs it. Implies `crossProcess` (the host's file is the outbox).
   */
  readonly crossHost?: string;
  /** Known payload fields. Absent: the payload is an open object (only `timestamp` is checked). */
  readonly payload?: z.ZodRawShape;
}

type PayloadSchema<P> = P extends z.ZodRawShape
  ? z.ZodObject<P & { timestamp: typeof timestampField }, z.core.$loose>
  : z.ZodObject<{ timestamp: typeof timestampField }, z.core.$loose>;

/** One event of the catalog, as the rest of the runtime sees it. */
export interface EventDefinition<
  N extends string = string,
  S extends z.ZodType = z.ZodObject<z.ZodRawShape, z.core.$loose>,
> {
  readonly name: N;
  readonly value: string;
  readonly domain: EventDomain;
  readonly crossProcess: boolean;
  readonly added: string | undefined;
  readonly crossProcessAdded: string | undefined;
  /** Why the event crosses hosts; undefined when it stays on its host. */
  readonly crossHost: string | undefined;
  readonly schema: S;
  /** Known payload field names besides `timestamp`; empty for an open payload. */
  readonly fields: readonly string[];
  /** True when the payload has a precise schema (from a typed emitter or the guide). */
  readonly precise: boolean;
}

export type DomainEvents<T extends Record<string, EventSpec>> = {
  readonly [K in keyof T & string]: EventDefinition<K, PayloadSchema<T[K]['payload']>>;
};

/**
 * Turns a domain module's specs into event definitions.
 * @example
 * export const trainingEvents = defineDomain('training', {
 *   TRAINING_STARTED: { value: 'training_started', crossProcess: true, payload: { config_key: f.str } },
 * });
 */
export function defineDomain<const T extends Record<string, EventSpec>>(
  domain: EventDomain,
  specs: T,
): DomainEvents<T> {
  const out: Record<string, EventDefinition> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const shape = spec.payload ?? {};
    out[name] = Object.freeze({
      name,
      value: spec.value,
      domain,
      crossProcess:
        spec.crossProcess === true ||
        spec.crossProcessAdded !== undefined ||
        spec.crossHost !== undefined,
      added: spec.added,
      crossProcessAdded: spec.crossProcessAdded,
      crossHost: spec.crossHost,
      schema: z.looseObject({ ...shape, timestamp: timestampField }),
      fields: Object.freeze(Object.keys(shape)),
      precise: spec.payload !== undefined,
    });
  }
  return out as DomainEvents<T>;
}
