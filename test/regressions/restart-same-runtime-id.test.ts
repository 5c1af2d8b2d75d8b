/**
 * A process restarted under the same, stable runtime id (it names its snapshots) must not repeat
 * envelope ids: a durable consumer's inbox and a peer's remote dedup recognise duplicates by id,
 * and would drop the restarted process's first events as already seen. Found in session 2
 * reviewing the crash-restore path: ids were `<runtimeId>-<sequence>`, the sequence restarting at 1.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createRouter, openEventLog, subscribeDurable } from '../../src/index.js';
import { type LogFixture, logFixture, until } from '../support/log.js';

let f: LogFixture;
afterEach(() => f?.close());
const silent = pino({ level: 'silent' });

describe('restart under the same runtime id', () => {
  it('loses no event of the second incarnation to the duplicate checks', async () => {
    f = logFixture();
    const hosts: string[] = [];
    await subscribeDurable(f.log, 'watcher', ['HOST_ONLINE'], (e) => {
      hosts.push(e.payload.host as string);
    });
    const remote: string[] = [];
    f.otherRouter.subscribe('HOST_ONLINE', (e) => void remote.push(e.payload.host as string));
    // Each incarnation is a process of its own: its own connection, closed with its router.
    const incarnation = () =>
      createRouter({
        name: 'node',
        runtimeId: 'node-1',
        logger: silent,
        eventLog: openEventLog({ path: f.tmp.path, logger: silent }),
      });
    const first = incarnation();
    first.publish('HOST_ONLINE', { host: 'a' });
    first.publish('HOST_ONLINE', { host: 'b' });
    await first.flush();
    await first.close();
    const second = incarnation();
    second.publish('HOST_ONLINE', { host: 'c' });
    second.publish('HOST_ONLINE', { host: 'd' });
    await second.flush();
    await until(() => hosts.length === 4 && remote.length === 4, 5_000, 'all four hosts');
    expect(hosts).toEqual(['a', 'b', 'c', 'd']);
    expect(remote).toEqual(['a', 'b', 'c', 'd']);
    await second.close();
  });
});
