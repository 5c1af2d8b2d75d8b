/**
 * A catalog event as a daemon's host hands it to the machine: the payload checked by the
 * catalog (as publish does: a test cannot send what production could not) and an envelope.
 */
import { CATALOG, type EventName, type PayloadInput } from '../../src/events/catalog/index.js';
import { createIdSource, createOrigin, stampEnvelope } from '../../src/events/envelope.js';
import { MAX_PAYLOAD_BYTES, preparePayload } from '../../src/events/payload.js';
import type { CatalogEvent } from '../../src/machines/protocol.js';

const origin = createOrigin('test', 'test-host');
const nextId = createIdSource('test');

/** `chain` sets the envelope's correlation id; `host` its origin host ('test-host'). */
export function catalogEvent<T extends EventName>(
  type: T,
  payload: PayloadInput<T>,
  where: { readonly chain?: string; readonly host?: string } = {},
): CatalogEvent<T> {
  const now = Date.now() / 1000;
  const checked = preparePayload(
    CATALOG[type],
    payload,
    now,
    MAX_PAYLOAD_BYTES,
  ) as CatalogEvent<T>['payload'];
  const envelope = stampEnvelope(
    nextId(),
    type,
    checked,
    'test',
    now,
    where.host === undefined ? origin : createOrigin('test', where.host),
    where.chain === undefined ? {} : { correlationId: where.chain },
  );
  return { type, payload: checked, envelope };
}
