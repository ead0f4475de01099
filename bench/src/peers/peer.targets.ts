import { randomBytes } from 'node:crypto';
import { startServer, type ServerProcess } from '../common/child.process';

/** A running comparison system: its client URLs and the processes to watch. */
export interface PeerTarget {
  name: 'ws-relay' | 'socketio-cluster';
  urls: string[];
  processes: { role: string; pid: number }[];
  stop(): Promise<void>;
}

export async function startWsRelay(): Promise<PeerTarget> {
  const relay = await startServer({
    name: 'ws relay',
    entry: 'bench/src/peers/ws-relay.server.ts',
    env: { PORT: '0' },
    isReady: (l) => l.msg === 'ws relay ready',
  });
  return {
    name: 'ws-relay',
    urls: [`ws://127.0.0.1:${relay.ready.port as number}/`],
    processes: [{ role: 'ws-relay', pid: relay.pid }],
    stop: async () => void (await relay.stop(5000)),
  };
}

/** Two Socket.IO nodes on the local Redis, under a key prefix of their own. */
export async function startSocketIoCluster(redisUrl: string, nodes = 2): Promise<PeerTarget> {
  const key = `mqim-bench-sio-${randomBytes(4).toString('hex')}`;
  const started: ServerProcess[] = [];
  try {
    for (let i = 0; i < nodes; i++) {
      started.push(
        await startServer({
          name: `socket.io node ${i + 1}`,
          entry: 'bench/src/peers/socketio-relay.server.ts',
          env: { PORT: '0', REDIS_URL: redisUrl, REDIS_KEY: key },
          isReady: (l) => l.msg === 'socket.io node ready',
          timeoutMs: 30_000,
        }),
      );
    }
  } catch (err) {
    await Promise.all(started.map((s) => s.stop(2000)));
    throw err;
  }
  return {
    name: 'socketio-cluster',
    urls: started.map((s) => `http://127.0.0.1:${s.ready.port as number}`),
    processes: started.map((s, i) => ({ role: `socket.io-${i + 1}`, pid: s.pid })),
    stop: async () => void (await Promise.all(started.map((s) => s.stop(5000)))),
  };
}
