import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { track } from '../common/child.process';
import type { WorkerCommand, WorkerProgress, WorkerReply } from './worker.protocol';

type CommandBody = WorkerCommand extends infer C ? (C extends WorkerCommand ? Omit<C, 'id'> : never) : never;

/** The orchestrator's handle on its load generator processes. */
export class LoadWorkers {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private readonly latest: WorkerProgress[];

  private constructor(private readonly children: ChildProcess[]) {
    this.latest = children.map(() => ({ op: 'progress', open: 0, sent: 0, acked: 0, delivered: 0 }));
    children.forEach((child, i) => {
      child.on('message', (m: WorkerReply | WorkerProgress) => {
        if ('op' in m) {
          this.latest[i] = m;
          return;
        }
        const w = this.waiting.get(m.id);
        if (!w) return;
        this.waiting.delete(m.id);
        if (m.ok) w.resolve(m.result);
        else w.reject(new Error(`load worker ${i}: ${m.error}`));
      });
      child.once('exit', (code, signal) => {
        for (const [id, w] of this.waiting) {
          w.reject(new Error(`load worker ${i} exited (${code ?? signal})`));
          this.waiting.delete(id);
        }
      });
    });
  }

  /** Forks `count` workers; each is `node --import tsx load.worker.ts` with its own event loop. */
  static start(count: number): LoadWorkers {
    const entry = resolve(__dirname, 'load.worker.ts');
    const children = Array.from({ length: count }, (_, i) =>
      track(
        fork(entry, [], {
          execArgv: ['--import', 'tsx'],
          env: { ...process.env, BENCH_WORKER_INDEX: String(i) },
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          // Structured clone: latency arrays of 100k+ numbers cross without JSON.
          serialization: 'advanced',
        }),
      ),
    );
    return new LoadWorkers(children);
  }

  get size(): number {
    return this.children.length;
  }

  call<T>(index: number, body: CommandBody): Promise<T> {
    const id = this.nextId++;
    const child = this.children[index]!;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ ...body, id } as WorkerCommand);
    });
  }

  /** Sends a command to every worker (or the ones `body` returns a command for) and awaits all. */
  all<T>(body: (index: number) => CommandBody | null): Promise<T[]> {
    const calls: Promise<T>[] = [];
    for (let i = 0; i < this.children.length; i++) {
      const b = body(i);
      if (b) calls.push(this.call<T>(i, b));
    }
    return Promise.all(calls);
  }

  /** Counters summed over workers, as of their last progress message (≤ 1 s old). */
  progress(): Omit<WorkerProgress, 'op'> {
    const sum = { open: 0, sent: 0, acked: 0, delivered: 0 };
    for (const p of this.latest) {
      sum.open += p.open;
      sum.sent += p.sent;
      sum.acked += p.acked;
      sum.delivered += p.delivered;
    }
    return sum;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.children.map((_, i) => this.call(i, { op: 'close' })));
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((done) => {
            if (c.exitCode !== null || c.signalCode !== null) return done();
            const hard = setTimeout(() => c.kill('SIGKILL'), 5000);
            c.once('exit', () => {
              clearTimeout(hard);
              done();
            });
          }),
      ),
    );
  }
}
