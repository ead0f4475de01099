/**
 * Entry of the SQLite store's checkpoint thread (see wal.checkpointer.ts): its own connection to
 * the store's file, running PASSIVE checkpoints on a timer so the main thread never copies the
 * WAL back into the database itself.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

export interface CheckpointThreadData {
  readonly filename: string;
  readonly intervalMs: number;
}

const data = workerData as CheckpointThreadData;
const port = parentPort!;
// The file is already in WAL mode (the store set it); this connection only checkpoints.
const db = new Database(data.filename, { timeout: 0 });

const checkpoint = (): void => {
  try {
    // PASSIVE: copies what no reader still needs, never waits for (or blocks) readers or the writer.
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // SQLITE_BUSY (another checkpoint runs) or a transient I/O error: the next tick tries again,
    // and the main connection's own autocheckpoint stays as the safety net.
  }
};
const timer = setInterval(checkpoint, data.intervalMs);

port.on('message', (msg: { close?: boolean }) => {
  if (msg.close) {
    clearInterval(timer);
    db.close();
    port.close();
  }
});
port.postMessage({ ready: true });
