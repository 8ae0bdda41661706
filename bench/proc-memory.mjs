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
