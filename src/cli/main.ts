#!/usr/bin/env node
/** `ringrift-coord`: the command line. */
import { parseArgs } from 'node:util';
import {
  ClusterUnreachableError,
  printClusterStatus,
  readClusterStatus,
} from '../cluster/status.js';
import {
  CoordinationError,
  defaultDbPath,
  InvalidOptionError,
  logLevelFromEnv,
  pipelineProfile,
} from '../index.js';
import { runDemo } from './demo.js';
import { writeDiagrams } from './diagrams.js';
import { listLetters, replayLetters } from './dlq.js';
import { checkPipelineWiring, printStatus, publishEvent, tailEvents } from './inspect-commands.js';
import { serveInspector } from './inspector.js';
import {
  choice,
  clusterToRead,
  configKeys,
  intOption,
  parsePayload,
  payloadText,
} from './options.js';
import { EXIT, runExitCode, runPipeline } from './run.js';
import { traceGuide } from './wiring-trace.js';

const USAGE = `usage: ringrift-coord <command> [options]

commands:
  run     the training pipeline (simulated work unless --config names commands)
            --profile standalone|coordinator|training_node
                                           which daemons this process runs (default standalone:
                                           all; split: a coordinator and a training node
                                           process sharing one --db file)
            --configs hex8_2p,square8_2p   config keys (default hex8_2p,square8_2p)
            --iterations N | --forever     iterations, at least 1 (default 3)
            --db PATH | --no-db            the SQLite event log (default: as the library,
                                           $RINGRIFT_COORDINATION_DIR/events.db, else
                                           $XDG_RUNTIME_DIR/ringrift_coordination/events.db)
            --config FILE                  worker commands: ringrift.config.json or .ts (.mts,
                                           .js, .mjs; default export, see defineConfig)
            --inspect local|stately        local: the inspector page, served from this package
                                           (no internet); stately: the Stately inspector (needs
                                           internet in the browser). The URL printed carries a token
            --inspect-port N               its port on 127.0.0.1 (default 8080)
            --inspect-allow-send           the local page may send events (checked by the catalog)
            --seed N                       simulated worker seed (default 1)
            --simulated-hosts N            simulated training hosts that come and go, presence
                                           only (default 2 with the simulated worker, else 0)
            --view live|log                live: daemons and per-config progress redrawn in
                                           place (default on a terminal); log: log lines
            --nats URL[,URL...]            join a cluster on NATS JetStream (or RINGRIFT_NATS_URL;
                                           credentials only from RINGRIFT_NATS_TOKEN, _USER and
                                           _PASSWORD, or _CREDS); an unreachable server: starts
                                           degraded and keeps trying
            --host NAME                    this host's name in the cluster (or RINGRIFT_HOST)
            --cluster NAME                 the cluster's name (default ringrift; RINGRIFT_CLUSTER)
  inspect [--db PATH] [--port N] [--allow-send] [--nats URL,... [--cluster NAME]]
                                         the inspector page for runtimes that share the file,
                                           started without any flag (from the event log and the
                                           actor snapshots; with --nats, the cluster's hosts and
                                           leader too); serves until SIGINT
  status [--db PATH] [--all]             per runtime (the 5 most recently active; --all: every
                                           one): alive or dead, daemon states, their machines at
                                           the last snapshot, pipeline stages, the file's state;
                                           consumer lag, dead letters
  cluster status [--nats URL,...] [--cluster NAME]
                                         the cluster as NATS sees it: hosts (age, incarnation,
                                           daemons, outbox), the leader and its token, consumer
                                           lag per host, the stream; exit 1 when unreachable
  events tail [--type T] [--no-follow] [--db PATH]
  events publish TYPE --payload JSON|@FILE|- [--db PATH]
                                         an event that crosses processes, validated first
  dlq list [--consumer C] [--all] [--db PATH]
                                         dead letters (--all: replayed ones too)
  dlq replay [--consumer C] [--id N ...] [--db PATH]
                                         send them back to the consumer that gave up on them
  wiring check [--profile P] [--trace]   the guide's 35 rows, each emitter and subscriber: wired,
                                           deviation (with its reason), in the other process, or
                                           MISSING; subscriptions without an emitter (in P, or in
                                           another process); exit 1 on a gap or a missing component.
                                           --trace: then a seeded simulated run proves each row
                                           (its emitters emitted it, its subscribers received it)
  diagrams                               regenerate diagrams/ (Mermaid) from the machines and a run
  demo    publish a small slice of the training flow through the router and print what happened

exit codes: 0 done; 1 a failure (a chain ended failed, a daemon failed for good, the event log
is damaged, a wiring gap); 2 a usage error (bad option, unreadable file, a refused event);
130 interrupted (SIGINT, SIGTERM, SIGHUP) before the iterations were done.`;

const print = (line: string) => console.log(line);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // Checked first: a bad level must be the one error, before anything opens a file.
  if (command !== undefined && !['-h', '--help'].includes(command)) logLevelFromEnv();
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
          'inspect-port': { type: 'string' },
          'inspect-allow-send': { type: 'boolean' },
          seed: { type: 'string' },
          'simulated-hosts': { type: 'string' },
          view: { type: 'string' },
          nats: { type: 'string' },
          host: { type: 'string' },
          cluster: { type: 'string' },
        },
        strict: true,
      });
      const clusterFlags = { nats: values.nats, host: values.host, cluster: values.cluster };
      const view = choice('--view', values.view, ['live', 'log'] as const);
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
      if (values.forever && values.iterations !== undefined)
        throw new InvalidOptionError(
          '--iterations',
          'left out with --forever (one or the other)',
          values.iterations,
        );
      if (values.db !== undefined && values['no-db'])
        throw new InvalidOptionError('--db', 'left out with --no-db', values.db);
      if (values.db === '') throw new InvalidOptionError('--db', 'a file path', '');
      const iterations = values.forever
        ? 0
        : (intOption('--iterations', values.iterations, 1) ?? 3);
      const inspect = choice('--inspect', values.inspect, ['local', 'stately'] as const);
      const inspectPort = intOption('--inspect-port', values['inspect-port'], 1, 65_535);
      if (inspectPort !== undefined && !inspect)
        throw new InvalidOptionError('--inspect-port', 'given with --inspect', inspectPort);
      const inspectAllowSend = values['inspect-allow-send'] === true;
      if (inspectAllowSend && inspect !== 'local')
        throw new InvalidOptionError('--inspect-allow-send', 'given with --inspect local', true);
      const summary = await runPipeline({
        profile,
        configs: configKeys(values.configs ?? 'hex8_2p,square8_2p'),
        iterations,
        dbPath: values['no-db'] ? false : (values.db ?? defaultDbPath()),
        configFile: values.config,
        inspect,
        inspectPort,
        inspectAllowSend,
        seed: intOption('--seed', values.seed, 0),
        simulatedHosts: intOption('--simulated-hosts', values['simulated-hosts'], 0, 16),
        view,
        clusterFlags,
      });
      if (summary.fatal) console.error(`ringrift-coord: ${summary.fatal}`);
      return runExitCode(summary, iterations);
    }
    case 'inspect': {
      const { values } = parseArgs({
        args: rest,
        options: {
          db: { type: 'string' },
          port: { type: 'string' },
          'allow-send': { type: 'boolean' },
          nats: { type: 'string' },
          cluster: { type: 'string' },
        },
        strict: true,
      });
      if (values.cluster !== undefined && values.nats === undefined)
        throw new InvalidOptionError('--cluster', 'given with --nats', values.cluster);
      const controller = new AbortController();
      for (const signal of ['SIGINT', 'SIGTERM'] as const)
        process.once(signal, () => controller.abort());
      await serveInspector({
        dbPath: values.db ?? defaultDbPath(),
        port: intOption('--port', values.port, 1, 65_535),
        allowSend: values['allow-send'] === true,
        cluster: values.nats === undefined ? undefined : clusterToRead(values.nats, values.cluster),
        out: print,
        signal: controller.signal,
      });
      return EXIT.ok;
    }
    case 'status': {
      const { values } = parseArgs({
        args: rest,
        options: { db: { type: 'string' }, all: { type: 'boolean' } },
        strict: true,
      });
      printStatus(values.db ?? defaultDbPath(), print, values.all ? Number.POSITIVE_INFINITY : 5);
      return EXIT.ok;
    }
    case 'cluster': {
      const [sub, ...args] = rest;
      if (sub !== 'status')
        throw new InvalidOptionError('cluster', "the subcommand 'status'", sub ?? '');
      const { values } = parseArgs({
        args,
        options: { nats: { type: 'string' }, cluster: { type: 'string' } },
        strict: true,
      });
      const nats = values.nats ?? process.env.RINGRIFT_NATS_URL;
      if (!nats) throw new InvalidOptionError('--nats', 'NATS URLs (or RINGRIFT_NATS_URL)', '');
      try {
        printClusterStatus(await readClusterStatus(clusterToRead(nats, values.cluster)), print);
      } catch (error) {
        // Not a usage error: the cluster is down or unreachable from here.
        if (!(error instanceof ClusterUnreachableError)) throw error;
        console.error(`ringrift-coord: ${error.message}`);
        return EXIT.failure;
      }
      return EXIT.ok;
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
      const dbPath = values.db ?? defaultDbPath();
      if (sub === 'tail') {
        const controller = new AbortController();
        process.once('SIGINT', () => controller.abort());
        await tailEvents(dbPath, values.type, print, controller.signal, !values['no-follow']);
        return EXIT.ok;
      }
      if (sub === 'publish') {
        const [type, ...extra] = positionals;
        if (!type || values.payload === undefined || extra.length > 0)
          throw new InvalidOptionError(
            'events publish',
            'TYPE --payload JSON|@FILE|-',
            positionals.join(' ') || 'nothing',
          );
        const payload = parsePayload(await payloadText(values.payload));
        await publishEvent(dbPath, type, payload, print);
        return EXIT.ok;
      }
      console.error(`ringrift-coord: 'events' takes 'tail' or 'publish'\n\n${USAGE}`);
      return EXIT.usage;
    }
    case 'dlq': {
      const [sub, ...args] = rest;
      const { values } = parseArgs({
        args,
        options: {
          db: { type: 'string' },
          consumer: { type: 'string' },
          id: { type: 'string', multiple: true },
          all: { type: 'boolean' },
        },
        strict: true,
      });
      const dbPath = values.db ?? defaultDbPath();
      if (sub === 'list') {
        await listLetters(dbPath, values.consumer, values.all === true, print);
        return EXIT.ok;
      }
      if (sub === 'replay') {
        const ids = (values.id ?? []).map((id) => intOption('--id', id, 1) as number);
        await replayLetters(dbPath, values.consumer, ids, print);
        return EXIT.ok;
      }
      console.error(`ringrift-coord: 'dlq' takes 'list' or 'replay'\n\n${USAGE}`);
      return EXIT.usage;
    }
    case 'wiring':
      if (rest[0] !== 'check') {
        console.error(`ringrift-coord: 'wiring' takes 'check'\n\n${USAGE}`);
        return EXIT.usage;
      }
      {
        const { values } = parseArgs({
          args: rest.slice(1),
          options: { profile: { type: 'string' }, trace: { type: 'boolean' } },
          strict: true,
        });
        const gaps = checkPipelineWiring(print, pipelineProfile(values.profile ?? 'standalone'));
        if (values.trace && values.profile !== undefined && values.profile !== 'standalone')
          throw new InvalidOptionError(
            '--trace',
            'given for the standalone profile',
            values.profile,
          );
        const unproven = values.trace ? await traceGuide(print) : 0;
        return gaps === 0 && unproven === 0 ? EXIT.ok : EXIT.failure;
      }
    case 'diagrams': {
      const written = await writeDiagrams('diagrams');
      print(`wrote ${written.length} files in diagrams/`);
      return EXIT.ok;
    }
    case 'demo':
      return runDemo();
    case undefined:
    case '-h':
    case '--help':
      console.log(USAGE);
      return command === undefined ? EXIT.usage : EXIT.ok;
    default:
      console.error(`ringrift-coord: unknown command '${command}'\n\n${USAGE}`);
      return EXIT.usage;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // A misuse (bad option, bad environment, an unusable file) is the user's to fix: say what, in
  // one line, not where in the code. Anything else is a bug, and its stack is what helps.
  const misuse =
    error instanceof CoordinationError ||
    (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  if (!misuse) throw error;
  console.error(`ringrift-coord: ${(error as Error).message.split('\n')[0]}`);
  process.exitCode = EXIT.usage;
}
