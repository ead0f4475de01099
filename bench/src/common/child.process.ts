import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';

/** Repository root (bench/src/common → ../../..). */
export const ROOT = resolve(__dirname, '../../..');

// Every child we start, so that an interrupted or failed run leaves nothing behind.
const live = new Set<ChildProcess>();

// Processes we started that are not our children (scripts/cluster-up detaches roles with setsid).
const adopted = new Set<number>();

export function killAllChildren(): void {
  for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  live.clear();
  for (const pid of adopted) {
    try {
      // Only while the pid still is an mqim process: never a stranger that reused it.
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('apps/cli/src/main.ts'))
        process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  adopted.clear();
}

/** Kill these (detached) pids too if the run is interrupted; `release` once they are stopped. */
export function adopt(pids: number[]): { release(): void } {
  for (const p of pids) adopted.add(p);
  return { release: () => pids.forEach((p) => adopted.delete(p)) };
}
process.once('exit', killAllChildren);

export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Fields of the ready line (ports and so on). */
  readonly ready: Record<string, unknown>;
  /** Last lines of output, for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

export interface StartServerOptions {
  /** TypeScript entry, relative to the repository root. */
  entry: string;
  args?: string[];
  env?: Record<string, string>;
  /** Extra node flags (`--cpu-prof`, …) placed before `--import tsx`. */
  nodeArgs?: string[];
  /** A JSON log line (or `{ msg: line }` for non-JSON output) that means "serving". */
  isReady: (line: Record<string, unknown>) => boolean;
  name: string;
  /** @default 60000 */
  timeoutMs?: number;
  /** Also append all output here (kept for post-mortems; nothing reads it back). */
  logFile?: string;
}

/**
 * Starts a TypeScript entry as `node --import tsx <entry>`: one process, so its pid is the
 * server's own (the `tsx` CLI would put a wrapper process in between, hiding RSS and CPU).
 */
export function startServer(options: StartServerOptions): Promise<ServerProcess> {
  const child = track(
    spawn(
      process.execPath,
      [...(options.nodeArgs ?? []), '--import', 'tsx', options.entry, ...(options.args ?? [])],
      {
        cwd: ROOT,
        env: { ...process.env, ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ),
  );
  const lines: string[] = [];
  const file = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  if (file) child.once('exit', () => file.end());
  const keep = (line: string) => {
    file?.write(`${line}\n`);
    lines.push(line);
    if (lines.length > 40) lines.shift();
  };
  const tail = () => lines.join('\n');
  const exit = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  createInterface({ input: child.stderr! }).on('line', keep);
  const out = createInterface({ input: child.stdout! });
  return new Promise<ServerProcess>((resolveReady, reject) => {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.name} not ready after ${timeoutMs} ms\n${tail()}`));
    }, timeoutMs);
    let ready = false;
    void exit.then((code) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`${options.name} exited with ${code} before it was ready\n${tail()}`));
    });
    out.on('line', (line) => {
      keep(line);
      if (ready) return;
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        entry = { msg: line };
      }
      if (!options.isReady(entry)) return;
      ready = true;
      clearTimeout(timer);
      resolveReady({
        child,
        pid: child.pid!,
        ready: entry,
        tail,
        async stop(graceMs = 20_000) {
          if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
          child.kill('SIGTERM');
          const hard = setTimeout(() => child.kill('SIGKILL'), graceMs);
          const code = await exit;
          clearTimeout(hard);
          return code;
        },
      });
    });
  });
}
