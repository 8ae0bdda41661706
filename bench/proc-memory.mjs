// Memory of a running process from /proc/<pid>/status (Linux): current and peak resident set size.
import { readdirSync, readFileSync } from 'node:fs';

/** { rssMB, hwmMB, anonMB, fileMB } of pid, or null when the process is gone or /proc is unavailable. */
export function readProcMemory(pid) {
  const text = readProcFile(pid, 'status');
  if (text === null) return null;
  const kB = (field) => {
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    return match ? Number(match[1]) : null;
  };
  const mb = (field) => {
    const value = kB(field);
    return value === null ? null : value / 1024;
  };
  // RssFile is mostly mapped code (libchdb.so alone is ~170 MB of it once paged in), RssAnon the
  // heap of every allocator (V8, glibc malloc for chDB); together with RssShmem they make VmRSS.
  return { rssMB: mb('VmRSS'), hwmMB: mb('VmHWM'), anonMB: mb('RssAnon'), fileMB: mb('RssFile') };
}

/**
 * CPU seconds (user + system, every thread) the process has used, from /proc/<pid>/stat, or null.
 * Less sensitive than wall time to other work on the machine: what one event costs, not how long
 * it waited for a core.
 */
export function readProcCpuSeconds(pid) {
  const text = readProcFile(pid, 'stat');
  if (text === null) return null;
  const fields = statFields(text);
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return Number.isFinite(ticks) ? ticks / CLOCK_TICKS_PER_SECOND : null;
}

/**
 * CPU seconds a Postgres server has used, every process of it: the postmaster's own and those of
 * its children that ended (a closed connection's backend), plus its live children's. Null without
 * /proc. `postmasterPid`: the first line of the data directory's postmaster.pid.
 */
export function readServerCpuSeconds(postmasterPid) {
  let total = 0;
  let entries;
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const text = readProcFile(entry, 'stat');
    if (text === null) continue; // ended meanwhile
    const fields = statFields(text);
    // ppid, utime, stime, cutime, cstime: fields 4, 14, 15, 16, 17
    if (Number(entry) === postmasterPid) total += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    else if (Number(fields[1]) === postmasterPid) total += Number(fields[11]) + Number(fields[12]);
  }
  return total / CLOCK_TICKS_PER_SECOND;
}

/**
 * The whole machine's CPU seconds so far, summed over its cores, from /proc/stat: `busy` (user,
 * nice, system, irq, softirq: what every process here used, the broker and Postgres included) and
 * `steal` (taken by the hypervisor for other guests). Null without
 * /proc. Two readings over an interval tell whether the cores were saturated: a stage that keeps
 * the machine busy cannot get faster by spreading its work over more threads or processes.
 */
export function readMachineCpuSeconds() {
  let text;
  try {
    text = readFileSync('/proc/stat', 'utf8');
  } catch {
    return null;
  }
  // cpu  user nice system idle iowait irq softirq steal ...
  const [user, nice, system, , , irq, softirq, steal] = text.slice(0, text.indexOf('\n')).split(/\s+/).slice(1, 9).map(Number);
  return { busy: (user + nice + system + irq + softirq) / CLOCK_TICKS_PER_SECOND, steal: steal / CLOCK_TICKS_PER_SECOND };
}

/** The process id of the server whose data directory is dataDir (first line of its postmaster.pid), or null. */
export function readPostmasterPid(dataDir) {
  try {
    const pid = Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;

/** /proc/<pid>/<name> as text, or null when the process is gone or /proc is unavailable. */
function readProcFile(pid, name) {
  try {
    return readFileSync(`/proc/${pid}/${name}`, 'utf8');
  } catch {
    return null;
  }
}

/** The fields of a /proc/<pid>/stat line from field 3 on (fields[0] is field 3, the state). */
function statFields(text) {
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}
