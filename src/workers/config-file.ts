/**
 * The worker config file: `ringrift.config.json`, or a `ringrift.config.ts` (also `.mts`, `.js`,
 * `.mjs`) whose default export is the same object, so that commands can be computed (paths from
 * the environment, one entry per kind from a loop). Both are checked by one schema.
 */
import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WorkerConfigError } from '../errors.js';
import {
  type ClusterFileOptions,
  type CommandConfig,
  type CommandSpec,
  parseConfigFile,
  readJsonConfig,
} from './command.js';
import type { WorkKind } from './worker.js';

/** What a config file holds. */
export interface RingriftConfig {
  readonly workers: Partial<Record<WorkKind, CommandSpec>>;
  /**
   * Joining a cluster (`ClusterOptions`: servers, host, name, token | user+password | credsFile,
   * tls, replicas, timings). Flags and the environment take precedence over it.
   */
  readonly cluster?: ClusterFileOptions;
}

/**
 * Types a `ringrift.config.ts` (it returns its argument).
 * @example
 * export default defineConfig({ workers: { training: { command: ['python', 'train.py', '--config', '{config_key}'] } } });
 */
export function defineConfig(config: RingriftConfig): RingriftConfig {
  return config;
}

const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs']);

/**
 * Loads and checks a config file by its extension.
 * @throws {WorkerConfigError} naming the file and every problem: unreadable, an unknown
 *   extension, a module that throws or exports no default, a value the schema refuses.
 */
export async function loadConfigFile(path: string): Promise<CommandConfig> {
  return (await loadRingriftConfig(path)).workers;
}

/** The whole file: worker commands and the cluster's options. @throws {WorkerConfigError} */
export async function loadRingriftConfig(
  path: string,
): Promise<{ workers: CommandConfig; cluster: ClusterFileOptions | undefined }> {
  const extension = extname(path);
  if (extension === '.json') return parseConfigFile(path, readJsonConfig(path));
  if (!MODULE_EXTENSIONS.has(extension))
    throw new WorkerConfigError(path, [
      `unknown extension '${extension}' (.json, ${[...MODULE_EXTENSIONS].join(', ')})`,
    ]);
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new WorkerConfigError(path, ['no such file']);
  let module: { default?: unknown };
  try {
    module = extension.endsWith('ts')
      ? await importTypeScript(absolute)
      : await import(pathToFileURL(absolute).href);
  } catch (error) {
    throw new WorkerConfigError(path, [`could not be loaded: ${(error as Error).message}`]);
  }
  if (module.default === undefined)
    throw new WorkerConfigError(path, [
      'has no default export (export default defineConfig({...}))',
    ]);
  return parseConfigFile(path, module.default);
}

/** tsx compiles the file (and what it imports) on the fly; Node 20 cannot run TypeScript itself. */
async function importTypeScript(absolute: string): Promise<{ default?: unknown }> {
  const { tsImport } = await import('tsx/esm/api');
  const module = (await tsImport(pathToFileURL(absolute).href, import.meta.url)) as {
    default?: { __esModule?: boolean; default?: unknown };
  };
  // Outside an ESM package the file is compiled to CommonJS: Node's namespace then has the
  // compiled `exports` object as its default, and the file's own default export inside it.
  if (module.default?.__esModule === true) return { default: module.default.default };
  return module;
}
