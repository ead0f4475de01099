import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

// utime/stime in /proc/<pid>/stat are in clock ticks; 100 on every Linux we run on, but ask.
let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Resident set size of a process in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** User + system CPU time of a process so far, in milliseconds (resolution: one clock tick). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces and parentheses: split after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / ticksPerSecond();
}

/** The soft "Max open files" limit of a process. */
export function openFilesLimit(pid: number | 'self' = 'self'): number {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
  return !m || m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
}

/** Machine-wide CPU time (all cores) split into busy and total, in ticks, from /proc/stat. */
export function machineCpuTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

export function loadAverage(): number[] {
  return readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/).slice(0, 3).map(Number);
}

/** The shared services a cluster run leans on, by command line (their pids, when running). */
const SERVICES: [name: string, pattern: RegExp][] = [
  ['rocketmq', /org\.apache\.rocketmq\.proxy\.ProxyStartup/],
  ['namesrv', /org\.apache\.rocketmq\.namesrv\.NamesrvStartup/],
  ['mariadb', /(^|\/)(mariadbd|mysqld)(\0|$)/],
  ['redis', /(^|\/)redis-server(\0| |$)/],
];

/** Pids of the running shared services (RocketMQ, MariaDB, Redis), found in /proc. */
export function servicePids(): { role: string; pid: number }[] {
  const found: { role: string; pid: number }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const hit = SERVICES.find(([, pattern]) => pattern.test(cmdline));
    if (hit && !found.some((f) => f.role === hit[0])) found.push({ role: hit[0], pid: Number(entry) });
  }
  return found;
}
