#!/usr/bin/env node
/** `ringrift-coord`: the command line. */
import { parseArgs } from 'node:util';
import { CoordinationError, InvalidOptionError, pipelineProfile } from '../index.js';
import { runDemo } from './demo.js';
import { writeDiagrams } from './diagrams.js';
import { checkPipelineWiring, printStatus, publishEvent, tailEvents } from './inspect-commands.js';
import { runPipeline } from './run.js';

const USAGE = `usage: ringrift-coord <command> [options]

commands:
  run     the training pipeline (simulated work unless --config names commands)
            --profile standalone|coordinator|training_node
                                           which daemons this process runs (default standalone:
                                           all; split: a coordinator and a training node
                                           process sharing one --db file)
            --configs hex8_2p,square8_2p   config keys (default hex8_2p,square8_2p)
            --iterations N | --forever     iterations (default 3)
            --db PATH | --no-db            the SQLite event log (default .ringrift/events.db)
            --config FILE                  worker commands: ringrift.config.json or .ts (.mts,
                                           .js, .mjs; default export, see defineConfig)
            --inspect stately              the Stately inspector, served on 127.0.0.1:8080 only
            --seed N                       simulated worker seed (default 1)
            --view live|log                live: daemons and per-config progress redrawn in
                                           place (default on a terminal); log: log lines
  status [--db PATH] [--all]             per runtime (the 5 most recently active; --all: every
                                           one): daemon states, their machines at the last
                                           snapshot, pipeline stages; consumer lag, dead letters
  events tail [--type T] [--no-follow] [--db PATH]
  events publish TYPE --payload JSON [--db PATH]
  wiring check [--profile P]             subscriptions without an emitter (in P, or in another
                                           process for cross-process events); exit 1 on a gap
  diagrams                               regenerate diagrams/ (Mermaid) from the machines and a run
  demo    publish a small slice of the training flow through the router and print what happened`;

const DEFAULT_DB = '.ringrift/events.db';
const print = (line: string) => console.log(line);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run': {
      const { values } = parseArgs({
        args: rest,
        options: {
          profile: { type: 'string' },
          configs: { type: 'string' },
          iterations: { type: 'string' },
          forever: { type: 'boolean' },
          db: { type: 'string' },
          'no-db': { type: 'boolean' },
          config: { type: 'string' },
          inspect: { type: 'string' },
          seed: { type: 'string' },
          view: { type: 'string' },
        },
        strict: true,
      });
      if (values.view !== undefined && values.view !== 'live' && values.view !== 'log')
        throw new InvalidOptionError('--view', "'live' or 'log'", values.view);
      const profile = pipelineProfile(values.profile ?? 'standalone');
      if (profile === 'training_node') {
        const misplaced = (['configs', 'iterations', 'forever'] as const).find(
          (o) => values[o] !== undefined,
        );
        if (misplaced)
          throw new InvalidOptionError(
            `--${misplaced}`,
            'left out with --profile training_node (it trains on request until SIGINT or SIGTERM; the coordinator drives iterations)',
            values[misplaced],
          );
      }
      const iterations = values.forever ? 0 : Number(values.iterations ?? 3);
      if (!Number.isInteger(iterations) || iterations < 0)
        throw new InvalidOptionError('--iterations', 'a whole number', values.iterations);
      if (values.inspect !== undefined && values.inspect !== 'stately')
        throw new InvalidOptionError('--inspect', "'stately'", values.inspect);
      const summary = await runPipeline({
        profile,
        configs: (values.configs ?? 'hex8_2p,square8_2p').split(',').filter(Boolean),
        iterations,
        dbPath: values['no-db'] ? false : (values.db ?? '.ringrift/events.db'),
        configFile: values.config,
        inspect: values.inspect as 'stately' | undefined,
        seed: values.seed === undefined ? undefined : Number(values.seed),
        view: values.view as 'live' | 'log' | undefined,
      });
      if (summary.fatal) {
        console.error(`ringrift-coord: ${summary.fatal}`);
        return 1;
      }
      if (summary.failedDaemons.length > 0) return 1;
      return summary.interrupted || summary.iterations === iterations || iterations === 0 ? 0 : 1;
    }
    case 'status': {
      const { values } = parseArgs({
        args: rest,
        options: { db: { type: 'string' }, all: { type: 'boolean' } },
        strict: true,
      });
      printStatus(values.db ?? DEFAULT_DB, print, values.all ? Number.POSITIVE_INFINITY : 5);
      return 0;
    }
    case 'events': {
      const [sub, ...args] = rest;
      const { values, positionals } = parseArgs({
        args,
        options: {
          db: { type: 'string' },
          type: { type: 'string' },
          payload: { type: 'string' },
          'no-follow': { type: 'boolean' },
        },
        allowPositionals: true,
        strict: true,
      });
      if (sub === 'tail') {
        const controller = new AbortController();
        process.once('SIGINT', () => controller.abort());
        await tailEvents(
          values.db ?? DEFAULT_DB,
          values.type,
          print,
          controller.signal,
          !values['no-follow'],
        );
        return 0;
      }
      if (sub === 'publish') {
        const [type] = positionals;
        if (!type || values.payload === undefined)
          throw new InvalidOptionError(
            'events publish',
            'TYPE --payload JSON',
            positionals.join(' '),
          );
        await publishEvent(values.db ?? DEFAULT_DB, type, values.payload, print);
        return 0;
      }
      console.error(`ringrift-coord: 'events' takes 'tail' or 'publish'\n\n${USAGE}`);
      return 2;
    }
    case 'wiring':
      if (rest[0] !== 'check') {
        console.error(`ringrift-coord: 'wiring' takes 'check'\n\n${USAGE}`);
        return 2;
      }
      {
        const { values } = parseArgs({
          args: rest.slice(1),
          options: { profile: { type: 'string' } },
          strict: true,
        });
        return checkPipelineWiring(print, pipelineProfile(values.profile ?? 'standalone')) === 0
          ? 0
          : 1;
      }
    case 'diagrams': {
      const written = await writeDiagrams('diagrams');
      print(`wrote ${written.length} files in diagrams/`);
      return 0;
    }
    case 'demo':
      return runDemo();
    case undefined:
    case '-h':
    case '--help':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`ringrift-coord: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // A misuse (bad option, bad environment) is the user's to fix: say what, not where in the code.
  const misuse =
    error instanceof CoordinationError ||
    (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  if (!misuse) throw error;
  console.error(`ringrift-coord: ${(error as Error).message}`);
  process.exitCode = 2;
}
