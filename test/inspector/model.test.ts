/** The inspector's model: bounded rings, deliveries, and the tree just after an event. */
import { describe, expect, it } from 'vitest';
import { type EventRecord, InspectorModel } from '../../src/index.js';

const event = (id: string): Omit<EventRecord, 'seq'> => ({
  id,
  type: 'TRAINING_COMPLETED',
  source: 'T',
  at: 0,
  host: 'h',
  runtimeId: 'r',
  pid: 1,
  traceId: id,
  correlationId: null,
  parentId: null,
  payload: '{}',
  remote: false,
});

const stateOf = (nodes: { id: string; state?: string }[] | undefined, id: string) =>
  nodes?.find((n) => n.id === id)?.state;

describe('InspectorModel', () => {
  it('keeps each event once and at most `events` of them, oldest dropped first', () => {
    const model = new InspectorModel({ events: 3, patches: 10, deliveries: 10 });
    for (const id of ['a', 'b', 'c', 'd']) expect(model.addEvent(event(id))).toBe(true);
    expect(model.addEvent(event('d'))).toBe(false);
    expect(model.eventsAfter(0).map((e) => e.id)).toEqual(['b', 'c', 'd']);
    expect(model.event('a')).toBeUndefined();
    expect(model.at('a')).toBeUndefined();
    const last = model.eventsAfter(0)[1]?.seq as number;
    expect(model.eventsAfter(last).map((e) => e.id)).toEqual(['d']);
    // A delivery of an event no longer kept is not recorded.
    model.handled('a', 'X', 'h');
    model.handled('d', 'X', 'h');
    expect(model.deliveriesAfter(0).map((d) => d.eventId)).toEqual(['d']);
  });

  it('shows the tree just after an event: the changes it caused, not those after', () => {
    const model = new InspectorModel();
    model.update('d', { kind: 'daemon', state: 'idle' });
    model.addEvent(event('start'));
    model.update('d', { kind: 'daemon', state: 'working' }, 'start');
    model.update('d/w', { kind: 'worker', parent: 'd', job: 'training' }, 'start');
    model.addEvent(event('done'));
    model.remove('d/w', 'done');
    model.update('d', { kind: 'daemon', state: 'idle' }, 'done');
    const afterStart = model.at('start');
    expect(stateOf(afterStart?.nodes, 'd')).toBe('working');
    expect(afterStart?.nodes.map((n) => n.id).sort()).toEqual(['d', 'd/w']);
    expect(afterStart?.exact).toBe(true);
    expect(stateOf(model.at('done')?.nodes, 'd')).toBe('idle');
    expect(model.nodes().map((n) => n.id)).toEqual(['d']);
  });

  it('an unchanged node is not a change (no version bump, nothing to send)', () => {
    const model = new InspectorModel();
    model.update('d', { kind: 'daemon', state: 'idle', ready: true });
    const version = model.version;
    const seq = model.lastSeq;
    model.update('d', { kind: 'daemon', state: 'idle' });
    expect(model.version).toBe(version);
    expect(model.lastSeq).toBe(seq);
  });

  it('folds old changes into a baseline: memory stays flat, and an old moment says it is approximate', () => {
    const model = new InspectorModel({ events: 100, patches: 5, deliveries: 5 });
    model.addEvent(event('early'));
    model.update('d', { kind: 'daemon', state: 's0' }, 'early');
    for (let i = 1; i <= 20; i++) model.update('d', { kind: 'daemon', state: `s${i}` });
    model.addEvent(event('late'));
    model.update('d', { kind: 'daemon', state: 'final' }, 'late');
    expect(model.at('late')).toMatchObject({ exact: true });
    expect(stateOf(model.at('late')?.nodes, 'd')).toBe('final');
    const early = model.at('early');
    expect(early?.exact).toBe(false);
    // The oldest tree still known, never a later one than the baseline.
    expect(stateOf(early?.nodes, 'd')).toBe('s16');
  });
});
