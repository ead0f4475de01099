import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(__dirname, '../../..');
const MAIN = resolve(ROOT, 'apps/cli/src/main.ts');

export interface MqimProcess {
  readonly child: ChildProcess;
  /** Fields of the process' "ready" log line (ports and so on). */
  readonly ready: Record<string, unknown>;
  /** Every JSON log line so far (tests assert on logged reasons). */
  readonly logs: Record<string, unknown>[];
  /** SIGTERM and wait for exit (graceful stop). */
  stop(): Promise<number | null>;
  /** SIGKILL: the process dies without any cleanup, like `kill -9`. */
  kill(): Promise<void>;
  exited(): Promise<number | null>;
}

export interface StartMqimOptions {
  env?: Record<string, string>;
  /** The log message that means "serving". @default 'mqim standalone ready' or 'role ready' */
  readyMessage?: string;
  /** @default 60000 */
  timeoutMs?: number;
}

/**
 * Starts `mqim <args>` as a real child process and resolves once it logs its ready line. Logs are
 * JSON lines (pino); they are kept for assertions and echoed on failure.
 */
export function startMqim(args: string[], options: StartMqimOptions = {}): Promise<MqimProcess> {
  const readyMessage =
    options.readyMessage ?? (args[0] === 'standalone' ? 'mqim standalone ready' : 'role ready');
  // node itself with tsx as a loader, not the tsx CLI: the CLI runs the program in a second
  // process, so `kill()` (SIGKILL, which cannot be relayed) would leave the real one running.
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, MQIM_LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const exit = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  return new Promise<MqimProcess>((resolveReady, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `mqim ${args.join(' ')} not ready after ${options.timeoutMs ?? 60000} ms\n${tail(logs, stderr)}`,
        ),
      );
    }, options.timeoutMs ?? 60_000);
    exit.then((code) => {
      clearTimeout(timer);
      reject(
        new Error(`mqim ${args.join(' ')} exited with ${code} before it was ready\n${tail(logs, stderr)}`),
      );
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        entry = { msg: line };
      }
      logs.push(entry);
      if (entry.msg === readyMessage) {
        clearTimeout(timer);
        resolveReady({
          child,
          ready: entry,
          logs,
          exited: () => exit,
          async stop() {
            if (child.exitCode === null) child.kill('SIGTERM');
            return exit;
          },
          async kill() {
            if (child.exitCode === null) child.kill('SIGKILL');
            await exit;
          },
        });
      }
    });
  });
}

function tail(logs: Record<string, unknown>[], stderr: string[]): string {
  return [...logs.slice(-20).map((l) => JSON.stringify(l)), stderr.join('').slice(-4000)].join('\n');
}
