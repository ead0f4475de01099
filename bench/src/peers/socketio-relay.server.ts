/**
 * One node of the Socket.IO comparison cluster: clients join room `u<userId>`; an event
 * `m { to, c, p }` is emitted to room `u<to>` (on every node, through @socket.io/redis-adapter
 * on the local Redis) and acked to the sender. No persistence, no ordering or delivery
 * guarantees beyond Socket.IO's own: this is the usual "chat with Socket.IO" architecture.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 REDIS_KEY=<unique> PORT=0 node --import tsx bench/src/peers/socketio-relay.server.ts
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { exitWhenOrphaned } from './orphan.guard';

interface Chat {
  to: number;
  c: string;
  p: string;
}

exitWhenOrphaned();
const pub = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const sub = pub.duplicate();
const http = createServer();
const io = new Server(http, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  // The key prefixes every pub/sub channel: concurrent runs (and other Redis users) stay apart.
  adapter: createAdapter(pub, sub, { key: process.env.REDIS_KEY ?? 'bench-sio' }),
});

io.on('connection', (socket) => {
  const userId = Number((socket.handshake.auth as { userId?: unknown }).userId);
  if (!Number.isSafeInteger(userId)) {
    socket.disconnect(true);
    return;
  }
  void socket.join(`u${userId}`);
  socket.on('m', (chat: Chat, ack?: (ok: boolean) => void) => {
    io.to(`u${chat.to}`).emit('m', chat);
    if (typeof ack === 'function') ack(true);
  });
});

// Listen only once both Redis connections are up, so no early event misses the other node.
void Promise.all([once(pub, 'ready'), once(sub, 'ready')]).then(() => {
  http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    const address = http.address();
    const port = address === null || typeof address === 'string' ? 0 : address.port;
    console.log(JSON.stringify({ msg: 'socket.io node ready', port }));
  });
});
process.once('exit', () => {
  pub.disconnect();
  sub.disconnect();
});
