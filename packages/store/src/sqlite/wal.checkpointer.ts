import { Worker } from 'node:worker_threads';
import type { CheckpointThreadData } from './wal-checkpoint.worker';

// The thread runs our TypeScript source: tsx compiles it there as it does in the main thread.
const ENTRY = require.resolve('./wal-checkpoint.worker');
const TSX = require.resolve('tsx/cjs/api');
const BOOTSTRAP = `require(${JSON.stringify(TSX)}).register(); require(${JSON.stringify(ENTRY)});`;

/**
 * Checkpoints the SQLite store's WAL from a worker thread. A checkpoint copies every page the
 * WAL holds back into the database file; run by the main connection (SQLite's autocheckpoint) it
 * blocked the event loop for 100-180 ms every second or two once the standalone server had
 * written 64 MiB of WAL (measured at 2,000 msg/s). Here it runs PASSIVE on a timer, so the WAL
 * stays small and the main thread only appends. If the thread dies, the main connection's
 * autocheckpoint still bounds the WAL.
 */
export class WalCheckpointer {
  #worker?: Worker;
  #closing = false;

  constructor(
    private readonly data: CheckpointThreadData,
    private readonly onStopped?: (message: string) => void,
  ) {}

  /** Resolves when the thread has opened its connection; rejects if it cannot. */
  start(): Promise<void> {
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData: this.data });
    this.#worker = worker;
    let ready = false;
    return new Promise((resolve, reject) => {
      worker.on('message', (msg: { ready?: boolean }) => {
        if (!msg.ready) return;
        ready = true;
        // From now on the thread must not keep a finished process alive.
        worker.unref();
        resolve();
      });
      // A later failure only stops the background checkpoints: the main connection's
      // autocheckpoint still bounds the WAL. Whoever opened the store hears of it.
      worker.on('error', (err) => {
        if (!ready) reject(err);
        else this.onStopped?.(`sqlite checkpoint thread failed: ${err.message}`);
      });
      worker.once('exit', (code) => {
        if (this.#worker === worker) this.#worker = undefined;
        if (!ready) reject(new Error(`sqlite checkpoint thread exited (${code}) before it was ready`));
        else if (!this.#closing) this.onStopped?.(`sqlite checkpoint thread exited (${code})`);
      });
    });
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    this.#closing = true;
    this.#worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ close: true });
    const timer = setTimeout(() => void worker.terminate(), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
