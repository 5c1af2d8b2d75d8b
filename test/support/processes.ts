/** Real child processes running the fixtures under tsx, with line-based stdout. */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const root = new URL('../..', import.meta.url).pathname;
const exec = promisify(execFile);

/**
 * Runs `ringrift-coord` (src/cli/main.ts under tsx) to its end: `{ stdout, stderr }`, or a
 * rejection carrying `code` and `stderr` when it exits non-zero.
 */
export const cliWith =
  (env: Record<string, string>) =>
  (...args: string[]) =>
    exec(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: root,
      env: { ...process.env, RINGRIFT_LOG_LEVEL: 'warn', ...env },
      maxBuffer: 16 * 1024 * 1024,
      // A command that hangs must not outlive its test (and eat the CPU of every test after it).
      timeout: 120_000,
      killSignal: 'SIGKILL',
    });
export const runCli = cliWith({});

export interface Fixture {
  readonly child: ChildProcess;
  readonly lines: string[];
  /** Resolves with the first stdout line matching, rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
  send(line: string): void;
  /** What it wrote to stderr so far. */
  stderr(): string;
}

export function startFixture(
  name: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Fixture {
  // A bare name is a test fixture; a path (bench/fixtures/x) is taken as it is.
  const script = name.includes('/') ? `${name}.ts` : `test/fixtures/${name}.ts`;
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: root,
    env: { ...process.env, RINGRIFT_LOG_LEVEL: 'warn', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    lines.push(line);
    for (const l of listeners) l();
  });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => {
      for (const l of listeners) l();
      resolve(code ?? signal ?? -1);
    });
  });
  return {
    child,
    lines,
    exited,
    send: (line) => child.stdin?.write(`${line}\n`),
    stderr: () => stderr,
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = lines.find((l) => pattern.test(l));
          if (hit !== undefined) {
            done();
            resolve(hit);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(
              new Error(
                `${name} exited (${child.exitCode ?? child.signalCode}) before ${pattern}; stderr:\n${stderr}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(
              `${name}: no line matching ${pattern} within ${timeoutMs} ms; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`,
            ),
          );
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}
