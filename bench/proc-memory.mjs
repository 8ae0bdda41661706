// Memory of a running process from /proc/<pid>/status (Linux): current and peak resident set size.
import { readFileSync } from 'node:fs';

/** { rssMB, hwmMB } of pid, or null when the process is gone or /proc is unavailable. */
export function readProcMemory(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kB = (field) => {
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    return match ? Number(match[1]) : null;
  };
  const rss = kB('VmRSS');
  const hwm = kB('VmHWM');
  return { rssMB: rss === null ? null : rss / 1024, hwmMB: hwm === null ? null : hwm / 1024 };
}

/**
 * CPU seconds (user + system, every thread) the process has used, from /proc/<pid>/stat, or null.
 * Less sensitive than wall time to other work on the machine: what one event costs, not how long
 * it waited for a core.
 */
export function readProcCpuSeconds(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return Number.isFinite(ticks) ? ticks / CLOCK_TICKS_PER_SECOND : null;
}

/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;
