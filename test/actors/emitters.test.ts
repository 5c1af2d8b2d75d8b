import { afterEach, describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import { GUIDE_EVENTS, getRouter, publish, resetRouter, subscribe } from '../../src/index.js';
import { testRouter } from '../support/router.js';

afterEach(() => resetRouter());

const emitterName = (event: string) =>
  `emit${event
    .toLowerCase()
    .split('_')
    .map((p) => p[0]?.toUpperCase() + p.slice(1))
    .join('')}`;

describe('typed emit helpers', () => {
  it('exist for every event of the guide tables', () => {
    for (const event of GUIDE_EVENTS) {
      expect(typeof (api as Record<string, unknown>)[emitterName(event)], event).toBe('function');
    }
  });

  it('publish on the process singleton by default, and on a given router when asked', async () => {
    const got: string[] = [];
    subscribe('TRAINING_COMPLETED', (e) => void got.push(`singleton:${e.source}`));
    api.emitTrainingCompleted(
      { config_key: 'hex8_2p', success: true, duration: 1 },
      { source: 'trainer' },
    );
    const { router } = testRouter();
    router.subscribe('TRAINING_COMPLETED', (e) => void got.push(`own:${e.source}`));
    api.emitTrainingCompleted(
      { config_key: 'hex8_2p', success: true, duration: 1 },
      { source: 'other', router },
    );
    await getRouter().whenIdle();
    await router.whenIdle();
    expect(got.sort()).toEqual(['own:other', 'singleton:trainer']);
    await router.close();
  });

  it('validate like publish does', () => {
    expect(() => api.emitEvaluationCompleted({ elo: 1 } as never)).toThrow(
      api.EventValidationError,
    );
  });
});

describe('getRouter()', () => {
  it('is one router per process, replaced after it is closed', async () => {
    const a = getRouter();
    expect(getRouter()).toBe(a);
    const envelope = publish('HOST_ONLINE', { host: 'h' });
    expect(a.getRecentEvents().map((e) => e.id)).toEqual([envelope.id]);
    await resetRouter();
    expect(a.isClosed).toBe(true);
    expect(getRouter()).not.toBe(a);
  });
});
