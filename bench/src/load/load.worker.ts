/**
 * A load generator process, forked by the orchestrator so that generating load never shares an
 * event loop with the server under test or with the other generators. It does only what the
 * orchestrator asks over IPC (worker.protocol.ts) and exits when told to, when the orchestrator
 * goes away, or after a hard lifetime cap.
 */
import { C2cDriver } from './c2c.driver';
import { ConnectionPool } from './connection.pool';
import { FanoutRecorder } from './fanout.recorder';
import type { ConnectionEvents } from './load.connection';
import type { WorkerCommand, WorkerProgress, WorkerReply } from './worker.protocol';

const LIFETIME_MS = 45 * 60_000;
const workerIndex = Number(process.env.BENCH_WORKER_INDEX ?? 0);

const c2c = new C2cDriver(`b${process.pid.toString(36)}-`);
const fanout = new FanoutRecorder();
// Connections report here; `pool` is declared below, and events only fire once it exists.
const events: ConnectionEvents = {
  onAck: (id, ok) => {
    if (!fanout.onAck(id, ok)) c2c.onAck(id, ok);
  },
  onDeliver: (_receiver, id, sessionType, payload) => {
    if (sessionType === 2) fanout.onDeliver(id, payload);
    else c2c.onDeliver(id);
  },
  onHeartbeatReply: () => {
    pool.stats.heartbeatReplies++;
  },
  onErrorNotice: (reason) => {
    pool.stats.errorNotices++;
    pool.note(reason);
  },
  onClose: (reason) => {
    pool.stats.open--;
    pool.stats.closed++;
    pool.note(reason);
  },
};
const pool = new ConnectionPool(events);

async function handle(cmd: WorkerCommand): Promise<unknown> {
  switch (cmd.op) {
    case 'connect':
      return pool.connect(cmd);
    case 'c2c':
      return c2c.run(cmd, pool.list);
    case 'group-create': {
      const owner = pool.byUser.get(cmd.ownerId);
      if (!owner) throw new Error(`user ${cmd.ownerId} is not connected in worker ${workerIndex}`);
      return { groupId: await owner.createGroup(cmd.name, cmd.memberIds, 60_000) };
    }
    case 'fanout-send': {
      const from = pool.byUser.get(cmd.fromId);
      if (!from) throw new Error(`user ${cmd.fromId} is not connected in worker ${workerIndex}`);
      return fanout.send(from, cmd.groupId, cmd.clientMsgId, 30_000);
    }
    case 'fanout-collect':
      return { latencyMs: await fanout.collect(cmd.clientMsgId, cmd.expected, cmd.waitMs) };
    case 'group-quiet':
      return fanout.quiet(cmd.minCount, cmd.quietMs, cmd.waitMs);
    case 'stats':
      return pool.stats;
    case 'close':
      pool.closeAll();
      setTimeout(() => process.exit(0), 200);
      return { closed: pool.list.length };
  }
}

process.on('message', (cmd: WorkerCommand) => {
  handle(cmd).then(
    (result) => reply({ id: cmd.id, ok: true, result }),
    (err: unknown) =>
      reply({ id: cmd.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});

function reply(r: WorkerReply | WorkerProgress): void {
  if (process.connected) process.send!(r);
}

const progress = setInterval(() => {
  reply({
    op: 'progress',
    open: pool.stats.open,
    sent: c2c.totalSent,
    acked: c2c.totalAcked,
    delivered: c2c.totalDelivered,
  });
}, 1000);
progress.unref();

process.on('disconnect', () => process.exit(0));
setTimeout(() => {
  console.error(`load worker ${workerIndex}: lifetime of ${LIFETIME_MS} ms reached, exiting`);
  process.exit(3);
}, LIFETIME_MS).unref();
