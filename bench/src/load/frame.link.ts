import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { FrameDecoder, decodeWsFrame, type Frame } from '@mqim/protocol';

/** A CIM frame pipe over TCP or WebSocket: the only part of a client that differs by transport. */
export interface FrameLink {
  write(frame: Buffer): void;
  close(): void;
}

export interface LinkHandlers {
  onOpen(): void;
  onFrame(frame: Frame): void;
  onClose(reason: string): void;
}

export function openTcpLink(
  host: string,
  port: number,
  localAddress: string | undefined,
  h: LinkHandlers,
): FrameLink {
  const socket: Socket = connect({ host, port, localAddress });
  socket.setNoDelay(true);
  const decoder = new FrameDecoder({ maxFrameLength: 1024 * 1024 });
  let reason = 'closed by server';
  socket.once('connect', h.onOpen);
  socket.on('data', (chunk: Buffer) => {
    try {
      decoder.push(chunk, h.onFrame);
    } catch (err) {
      reason = `bad frame: ${(err as Error).message}`;
      socket.destroy();
    }
  });
  socket.on('error', (err) => {
    reason = err.message;
  });
  socket.once('close', () => h.onClose(reason));
  return {
    write: (frame) => void socket.write(frame),
    close: () => {
      reason = 'closed by client';
      socket.destroy();
    },
  };
}

export function openWsLink(url: string, localAddress: string | undefined, h: LinkHandlers): FrameLink {
  const ws = new WebSocket(url, { localAddress, perMessageDeflate: false });
  let reason = 'closed by server';
  ws.once('open', h.onOpen);
  ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
    try {
      h.onFrame(decodeWsFrame(data, isBinary));
    } catch (err) {
      reason = `bad frame: ${(err as Error).message}`;
      ws.terminate();
    }
  });
  ws.on('error', (err) => {
    reason = err.message;
  });
  ws.once('close', (code) => h.onClose(`${reason} (ws ${code})`));
  return {
    write: (frame) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(frame);
    },
    close: () => {
      reason = 'closed by client';
      ws.terminate();
    },
  };
}
