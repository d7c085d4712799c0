import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * Who a process is, beyond its pid: pids are reused, so a pid alone must never be killed on
 * the strength of an old record. On Linux a process is identified by its pid, its start time
 * (field 22 of /proc/<pid>/stat, in clock ticks since boot) and its command line.
 *
 * Must not: throw; a process that cannot be read is "not the one recorded".
 */
export interface ProcessIdentity {
  readonly pid: number;
  /** /proc/<pid>/stat start time, or null where the platform has no /proc. */
  readonly startTime: string | null;
}

/** The start time of `pid` (clock ticks since boot), or null when unknown or not running. */
export function processStartTime(pid: number): string | null {
  return statFields(pid)?.[19] ?? null;
}

/** Fields 3… of /proc/<pid>/stat (state first), or null without /proc or without the process. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces or parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** The command line of `pid` from /proc, or null when unknown or not running. */
export function processCommandLine(pid: number): string[] | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((part, index, all) => part !== '' || index < all.length - 1);
  } catch {
    return null;
  }
}

/** Does a process with this pid run (ours or another user's)? A zombie does not. */
export function pidExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !['Z', 'X'].includes(statFields(pid)?.[0] ?? '');
}

/** This process, as recorded for later checks. */
export function identify(pid: number): ProcessIdentity {
  return { pid, startTime: processStartTime(pid) };
}

/**
 * Is `recorded` still running, as the same process? Where /proc exists, the start time must
 * match; `command`, when given, must match the executable's base name too.
 */
export function isSameProcess(recorded: ProcessIdentity, command?: string): boolean {
  if (!pidExists(recorded.pid)) return false;
  if (recorded.startTime === null) return command === undefined || psCommand(recorded.pid, command);
  if (processStartTime(recorded.pid) !== recorded.startTime) return false;
  if (command === undefined) return true;
  const argv0 = processCommandLine(recorded.pid)?.[0];
  return argv0 !== undefined && basename(argv0) === basename(command);
}

/** Without /proc (macOS, BSD): does `ps` name `command` as the program of `pid`? */
function psCommand(pid: number, command: string): boolean {
  try {
    const name = execFileSync('ps', ['-o', 'comm=', '-p', String(pid)], {
      encoding: 'utf8',
      timeout: 5000,
    }).trim();
    return name !== '' && basename(name) === basename(command);
  } catch {
    return false;
  }
}
