/**
 * Two and four OS processes publishing and subscribing through one SQLite file: every event
 * reaches every subscriber exactly once (its writer's own subscribers locally, the others through
 * the file, never both), none is lost, and each publisher's order is kept.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Fixture, startFixture } from '../support/processes.js';
import { type TempDb, tempDb } from '../support/temp-db.js';

let db: TempDb;
let peers: Fixture[] = [];
afterEach(() => {
  for (const p of peers) p.child.kill('SIGKILL');
  peers = [];
  db?.cleanup();
});

async function runPeers(count: number, perPeer: number) {
  db = tempDb();
  // Its own events reach a process once, locally; the others' once, through the file.
  const expected = count * perPeer;
  peers = Array.from({ length: count }, (_, i) =>
    startFixture('peer-process', [db.path, `peer${i}`, String(perPeer), String(expected)]),
  );
  await Promise.all(peers.map((p) => p.waitFor(/^READY$/)));
  for (const p of peers) p.send('GO');
  const results = await Promise.all(peers.map((p) => p.waitFor(/^RESULT /, 60_000)));
  return results.map(
    (line) => JSON.parse(line.slice('RESULT '.length)) as { from: string; n: number; id: string }[],
  );
}

function checkExactlyOnce(results: { from: string; n: number; id: string }[][], perPeer: number) {
  results.forEach((received, i) => {
    const me = `peer${i}`;
    expect(new Set(received.map((r) => r.id)).size, `${me} got a duplicate`).toBe(received.length);
    for (let j = 0; j < results.length; j++) {
      const fromJ = received.filter((r) => r.from === `peer${j}`).map((r) => r.n);
      expect(fromJ, `${me} from peer${j}: lost, duplicated or reordered`).toEqual(
        Array.from({ length: perPeer }, (_, n) => n),
      );
    }
  });
}

describe('the event log across processes', () => {
  it('two processes: each subscriber gets every event once, in order', async () => {
    const results = await runPeers(2, 500);
    checkExactlyOnce(results, 500);
  });

  it('four processes: the same with everyone publishing at once', async () => {
    const results = await runPeers(4, 300);
    checkExactlyOnce(results, 300);
  });
});
