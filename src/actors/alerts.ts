/**
 * Where the alerts that daemons raise (`daemon.alert`, decided by ALERT_MANAGER's machine) go:
 * an error log line with the alert's fields, the last 50 kept for the live view and the
 * inspector, and the configured alert command, if any.
 *
 * The command follows the command worker's rules: an argv, never a shell; the alert reaches it as
 * JSON on stdin and in `RINGRIFT_ALERT`. It runs in its own process group, killed with the group
 * after `timeoutMs` (10 s). A command that cannot start, fails or times out is logged at warn: an
 * alert that could not be delivered must not take the runtime down, and the log line is there.
 */
import { spawn } from 'node:child_process';
import type { Alert } from '../machines/emitted.js';
import type { Logger } from './logger.js';

export interface AlertCommand {
  readonly command: readonly string[];
  /** Default 10 s. */
  readonly timeoutMs?: number;
  readonly env?: Readonly<Record<string, string>>;
}

export interface RaisedAlertRecord extends Omit<Alert, 'type'> {
  readonly daemon: string;
  /** Unix seconds. */
  readonly at: number;
}

const KEPT = 50;
const DEFAULT_TIMEOUT_MS = 10_000;

export class AlertSink {
  private readonly recent: RaisedAlertRecord[] = [];
  private readonly running = new Set<Promise<void>>();
  /** Alert commands that could not start, failed or timed out. */
  commandFailures = 0;

  constructor(
    private readonly logger: Logger,
    private readonly command?: AlertCommand,
  ) {}

  raise(daemon: string, alert: Alert, at: number): void {
    const { type: _, ...fields } = alert;
    const record: RaisedAlertRecord = { ...fields, daemon, at };
    this.recent.push(record);
    if (this.recent.length > KEPT) this.recent.shift();
    this.logger.error(
      {
        alert: alert.alert,
        severity: alert.severity,
        config_key: alert.config_key,
        cause: alert.cause,
        daemon,
      },
      `ALERT (${alert.severity}) ${alert.message}`,
    );
    if (this.command) this.track(this.run(this.command, record));
  }

  /** The last alerts raised, oldest first. */
  list(): readonly RaisedAlertRecord[] {
    return [...this.recent];
  }

  /** Waits for the alert commands still running (a stopping runtime lets them finish). */
  async drain(): Promise<void> {
    await Promise.all([...this.running]);
  }

  private track(p: Promise<void>): void {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  private run(spec: AlertCommand, record: RaisedAlertRecord): Promise<void> {
    const [file, ...args] = spec.command;
    const json = JSON.stringify(record);
    return new Promise<void>((resolve) => {
      const failed = (why: string) => {
        this.commandFailures++;
        this.logger.warn(
          { command: file, alert: record.alert, cause: record.cause },
          `alert command failed: ${why}`,
        );
        resolve();
      };
      const child = spawn(file as string, args, {
        stdio: ['pipe', 'ignore', 'pipe'],
        detached: true,
        env: { ...process.env, ...spec.env, RINGRIFT_ALERT: json },
      });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-1_000);
      });
      const timer = setTimeout(() => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch (error) {
          // ESRCH: the group is already gone, and the exit handler reports it.
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH')
            this.logger.warn({ command: file }, `alert command could not be killed: ${error}`);
        }
      }, spec.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      child.on('error', (error) => {
        clearTimeout(timer);
        failed(`${file} could not start: ${error.message}`);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else
          failed(
            `${file} ${signal ? `was killed (${signal}, timeout ${spec.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms)` : `exited ${code}`}${stderr ? `: ${stderr.trim()}` : ''}`,
          );
      });
      child.stdin?.on('error', () => {
        // A command that does not read its stdin is fine; its exit code says how it went.
      });
      child.stdin?.end(json);
    });
  }
}
