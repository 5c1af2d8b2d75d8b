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

export function catalogEvent<T extends EventName>(
  type: T,
  payload: PayloadInput<T>,
): CatalogEvent<T> {
  const now = Date.now() / 1000;
  const checked = preparePayload(
    CATALOG[type],
    payload,
    now,
    MAX_PAYLOAD_BYTES,
  ) as CatalogEvent<T>['payload'];
  const envelope = stampEnvelope(nextId(), type, checked, 'test', now, origin, {});
  return { type, payload: checked, envelope };
}
