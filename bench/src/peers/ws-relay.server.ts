/**
 * The limit for the c2c path: a bare `ws` server that forwards every binary message of socket
 * `?id=A&peer=B` to socket B as it is. No login, no parsing, no storage, no ack: whatever mqim
 * spends beyond this is the price of its features (and of its extra hops).
 *
 *   node --import tsx bench/src/peers/ws-relay.server.ts     (PORT=0 picks a free port)
 */
import { WebSocketServer, type WebSocket } from 'ws';
import { exitWhenOrphaned } from './orphan.guard';

exitWhenOrphaned();
const sockets = new Map<string, WebSocket>();
const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  perMessageDeflate: false,
  maxPayload: 1024 * 1024,
});

wss.on('connection', (ws, req) => {
  const query = new URL(req.url ?? '/', 'http://relay').searchParams;
  const id = query.get('id') ?? '';
  const peer = query.get('peer') ?? '';
  sockets.set(id, ws);
  ws.on('message', (data, isBinary) => {
    const to = sockets.get(peer);
    if (to && to.readyState === to.OPEN) to.send(data, { binary: isBinary });
  });
  ws.on('close', () => {
    if (sockets.get(id) === ws) sockets.delete(id);
  });
  ws.on('error', () => ws.terminate());
});

wss.on('listening', () => {
  const address = wss.address();
  const port = address === null || typeof address === 'string' ? 0 : address.port;
  console.log(JSON.stringify({ msg: 'ws relay ready', port }));
});
