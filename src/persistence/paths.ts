/**
 * Where the per-host database lives, by the original service's rules, so that a Python process
 * of the original and this runtime find the same `events.db` without configuration.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `$RINGRIFT_COORDINATION_DIR`, else `$XDG_RUNTIME_DIR/ringrift_coordination`, else
 * `ringrift_coordination_<uid>` in the system temp directory (plain `ringrift_coordination` for
 * uid 0).
 */
export function defaultCoordinationDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RINGRIFT_COORDINATION_DIR) return env.RINGRIFT_COORDINATION_DIR;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'ringrift_coordination');
  const uid = process.getuid?.() ?? 0;
  return join(tmpdir(), uid === 0 ? 'ringrift_coordination' : `ringrift_coordination_${uid}`);
}

/** The default database file: `events.db` in the coordination directory. */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(defaultCoordinationDir(env), 'events.db');
}
