/**
 * Who holds a lease, by more than a PID. In a container the runtime is always PID 1, so after a
 * kill -9 the restarted process has the dead one's PID and `kill(pid, 0)` says "alive". The
 * kernel's boot id plus the process's start time (field 22 of `/proc/<pid>/stat`, in clock ticks
 * since boot) names one process for the life of the machine.
 */
import { readFileSync } from 'node:fs';

let bootId: string | null | undefined;

function readBootId(): string | null {
  if (bootId !== undefined) return bootId;
  try {
    bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    bootId = null; // no /proc (not Linux): identities are unknown, leases fall back to heartbeats
  }
  return bootId;
}

/**
 * `<boot id>:<start ticks>` of a process, or null when it does not exist or cannot be read
 * (no /proc on this system).
 * @example
 * processIdentity(process.pid); // '6c1f...:123456'
 */
export function processIdentity(pid: number): string | null {
  const boot = readBootId();
  if (boot === null) return null;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces or ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTicks = fields[19]; // field 22 overall: fields 3.. start at index 0
  return startTicks ? `${boot}:${startTicks}` : null;
}

/** This process's identity, read once. */
export const OWN_IDENTITY = processIdentity(process.pid);

/**
 * Whether the process that wrote `(pid, identity)` on this host may still be running: its PID is
 * alive and, when both identities are known, it is the same process (not a reuse of the PID).
 */
function sameProcessAlive(pid: number, identity: string | null): boolean {
  if (!isAlive(pid)) return false;
  if (identity === null) return true;
  const current = processIdentity(pid);
  return current === null || current === identity;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/**
 * Whether the process a row names (PID and start identity, written on this host) still runs.
 * This process's own PID with another identity is a previous incarnation of it (a container's
 * PID 1 after kill -9): gone, whatever `kill(pid, 0)` says.
 */
export function holderAlive(pid: number, identity: string | null): boolean {
  if (pid === process.pid) return identity === OWN_IDENTITY;
  return sameProcessAlive(pid, identity);
}
