/**
 * Issue 9.8: every user error of `ringrift-coord` is one line naming the problem, exit code 2,
 * no stack trace. Each row is a real run of the command against a bad input.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWith } from '../support/processes.js';
import { type TempDb, tempDb } from '../support/temp-db.js';

let tmp: TempDb;
let corrupt: string;
let taken: Server;
let takenPort = 0;
beforeAll(async () => {
  taken = createServer();
  takenPort = await new Promise<number>((resolve) =>
    taken.listen(0, '127.0.0.1', () => resolve((taken.address() as { port: number }).port)),
  );
  tmp = tempDb();
  corrupt = join(tmp.dir, 'corrupt.db');
  // A SQLite header followed by garbage: the file says it is a database, and is not one.
  writeFileSync(
    corrupt,
    Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(8192, 0xab)]),
  );
});
afterAll(() => {
  tmp?.cleanup();
  taken?.close();
});

interface Row {
  readonly args: readonly string[];
  readonly message: RegExp;
  readonly env?: Record<string, string>;
}

const db = () => ['--db', tmp.path];
const ROWS: readonly (readonly [string, () => Row])[] = [
  [
    'run --iterations 0',
    () => ({
      args: ['run', '--iterations', '0'],
      message: /'--iterations' must be a whole number of at least 1 \(got '0'\)/,
    }),
  ],
  [
    "run --iterations ''",
    () => ({
      args: ['run', '--iterations', ''],
      message: /'--iterations' must be a whole number of at least 1 \(got ''\)/,
    }),
  ],
  [
    'run --forever --iterations 2',
    () => ({
      args: ['run', '--forever', '--iterations', '2'],
      message: /'--iterations' must be left out with --forever/,
    }),
  ],
  [
    'run --seed abc',
    () => ({
      args: ['run', '--seed', 'abc'],
      message: /'--seed' must be a whole number of at least 0 \(got 'abc'\)/,
    }),
  ],
  [
    'run --configs a,a',
    () => ({
      args: ['run', '--configs', 'a,a'],
      message: /'--configs' must be a list without repeats .*\(got 'a'\)/,
    }),
  ],
  [
    'run --configs=--help',
    () => ({
      args: ['run', '--configs=--help'],
      message: /'--configs' must be a list of a config key.*\(got '--help'\)/,
    }),
  ],
  [
    'run --configs ../x',
    () => ({
      args: ['run', '--configs', '../x'],
      message: /'--configs' must be a list of a config key/,
    }),
  ],
  [
    'run --configs a,,b',
    () => ({
      args: ['run', '--configs', 'a,,b'],
      message: /'--configs' must be a list of a config key.*\(got ''\)/,
    }),
  ],
  [
    'run --view fancy',
    () => ({
      args: ['run', '--view', 'fancy'],
      message: /'--view' must be 'live' or 'log' \(got 'fancy'\)/,
    }),
  ],
  [
    'run --inspect other',
    () => ({
      args: ['run', '--inspect', 'other'],
      message: /'--inspect' must be 'local' or 'stately'/,
    }),
  ],
  [
    'run --inspect-port 70000',
    () => ({
      args: ['run', '--inspect', 'stately', '--inspect-port', '70000'],
      message: /'--inspect-port' must be a whole number from 1 to 65535/,
    }),
  ],
  [
    'run --inspect stately on a port that is taken',
    () => ({
      args: ['run', '--inspect', 'stately', '--inspect-port', String(takenPort), '--no-db'],
      message:
        /inspector port \d+ on 127\.0\.0\.1 is already in use; choose another with --inspect-port/,
    }),
  ],
  [
    'run --inspect local on a port that is taken',
    () => ({
      args: ['run', '--inspect', 'local', '--inspect-port', String(takenPort), '--no-db'],
      message:
        /inspector port \d+ on 127\.0\.0\.1 is already in use; choose another with --inspect-port/,
    }),
  ],
  [
    'run --inspect-allow-send without --inspect local',
    () => ({
      args: ['run', '--inspect', 'stately', '--inspect-allow-send'],
      message: /'--inspect-allow-send' must be given with --inspect local/,
    }),
  ],
  [
    'run --inspect-port without --inspect',
    () => ({
      args: ['run', '--inspect-port', '9000'],
      message: /'--inspect-port' must be given with --inspect/,
    }),
  ],
  [
    'run --db in a directory that cannot be created',
    () => ({
      // A directory under a regular file: ENOTDIR, on any filesystem, even for root.
      args: ['run', '--db', join(corrupt, 'sub', 'events.db'), '--iterations', '1'],
      message: /cannot create directory '.*corrupt\.db\/sub'/,
    }),
  ],
  [
    'run --db under /proc (Node 20’s recursive mkdir loops for ever there)',
    () => ({
      args: ['run', '--db', '/proc/ringrift/events.db', '--iterations', '1'],
      message: /cannot create directory '\/proc\/ringrift'/,
    }),
  ],
  [
    'run --db on a damaged file',
    () => ({
      args: ['run', '--db', corrupt, '--iterations', '1'],
      message: /damaged|not a SQLite database/,
    }),
  ],
  [
    'run --db with --no-db',
    () => ({
      args: ['run', '--db', 'x.db', '--no-db'],
      message: /'--db' must be left out with --no-db/,
    }),
  ],
  ['run --bogus', () => ({ args: ['run', '--bogus'], message: /Unknown option '--bogus'/ })],
  ['run --profile nope', () => ({ args: ['run', '--profile', 'nope'], message: /nope/ })],
  [
    'events publish with invalid JSON',
    () => ({
      args: ['events', 'publish', 'TRAINING_COMPLETED', '--payload', '{bad', ...db()],
      message: /'--payload' must be JSON \(.*\) \(got '\{bad'\)/,
    }),
  ],
  [
    'events publish with a JSON array',
    () => ({
      args: ['events', 'publish', 'TRAINING_COMPLETED', '--payload', '[1]', ...db()],
      message: /'--payload' must be a JSON object/,
    }),
  ],
  [
    'events publish with an empty required string',
    () => ({
      args: ['events', 'publish', 'HOST_ONLINE', '--payload', '{"host":""}', ...db()],
      message: /'host': must not be empty/,
    }),
  ],
  [
    'events publish of an event that does not cross processes',
    () => ({
      args: [
        'events',
        'publish',
        'NEW_GAMES_AVAILABLE',
        '--payload',
        '{"config_key":"hex8_2p","new_games":5}',
        ...db(),
      ],
      message: /must be an event that crosses processes.*\(got 'NEW_GAMES_AVAILABLE'\)/,
    }),
  ],
  [
    'events publish of an unknown type',
    () => ({
      args: ['events', 'publish', 'TRAINING_COMPLETE_X', '--payload', '{}', ...db()],
      message: /unknown event type 'TRAINING_COMPLETE_X'; did you mean/,
    }),
  ],
  [
    'events publish --payload @missing',
    () => ({
      args: ['events', 'publish', 'HOST_ONLINE', '--payload', '@/nonexistent/p.json', ...db()],
      message:
        /'--payload' must be JSON, @FILE or - \(stdin\) \(got '@\/nonexistent\/p.json \(ENOENT\)'\)/,
    }),
  ],
  [
    'events publish without --payload',
    () => ({
      args: ['events', 'publish', 'HOST_ONLINE', ...db()],
      message: /'events publish' must be TYPE --payload/,
    }),
  ],
  [
    'events publish with a bad RINGRIFT_LOG_LEVEL',
    () => ({
      args: ['events', 'publish', 'HOST_ONLINE', '--payload', '{"host":"h"}', ...db()],
      env: { RINGRIFT_LOG_LEVEL: 'bogus' },
      message: /'RINGRIFT_LOG_LEVEL' must be one of/,
    }),
  ],
  [
    'status on a damaged file',
    () => ({ args: ['status', '--db', corrupt], message: /damaged|not a SQLite database/ }),
  ],
  [
    'status on a file that does not exist',
    () => ({ args: ['status', '--db', join(tmp.dir, 'none.db')], message: /cannot be opened/ }),
  ],
  [
    'dlq replay without a selection',
    () => ({
      args: ['dlq', 'replay', ...db()],
      message: /'dlq replay' must be --consumer C and\/or --id N/,
    }),
  ],
  [
    'dlq replay --id x',
    () => ({
      args: ['dlq', 'replay', '--id', 'x', ...db()],
      message: /'--id' must be a whole number of at least 1 \(got 'x'\)/,
    }),
  ],
  [
    'dlq replay of an unknown id',
    () => ({
      args: ['dlq', 'replay', '--id', '99', ...db()],
      message: /dead letter 99 does not exist/,
    }),
  ],
  [
    'wiring check --profile nope',
    () => ({ args: ['wiring', 'check', '--profile', 'nope'], message: /nope/ }),
  ],
];

describe('ringrift-coord refuses bad input with one line and exit code 2', () => {
  it.concurrent.each(ROWS)('%s', async (_, row) => {
    const { args, message, env } = row();
    const outcome = await cliWith({ RINGRIFT_LOG_LEVEL: 'warn', ...env })(...args).then(
      (r) => ({ code: 0, stderr: r.stderr, stdout: r.stdout }),
      (e: { code: number; stderr: string; stdout: string }) => e,
    );
    expect(outcome.code, `stdout: ${outcome.stdout}\nstderr: ${outcome.stderr}`).toBe(2);
    const lines = outcome.stderr.trim().split('\n');
    expect(lines, outcome.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^ringrift-coord: /);
    expect(lines[0]).toMatch(message);
    expect(outcome.stderr).not.toMatch(/^\s+at /m);
  });
});
