import type { Logger } from '@mqim/config';
import type { MqimMetrics } from '@mqim/metrics';
import { CIM, CommandId, ImErrorNumber, commandName, encodeFrame, type ImErrorCode } from '@mqim/protocol';
import type { Connection } from './connection';
import { hiddenFromLegacy } from './legacy.filter';

/**
 * Writes frames to connections, and is where a connection that does not read is found out: past
 * `maxPendingBytes` of unsent output it is told why (IM_ERR_SLOW_CONSUMER, queued behind what it has
 * not read) and closed, so one slow client cannot hold a gate's memory.
 */
export class FrameWriter {
  constructor(
    private readonly maxPendingBytes: number,
    private readonly metrics: MqimMetrics,
    private readonly log: Logger,
  ) {}

  write(conn: Connection, cmd: number, seq: number, body: Uint8Array): void {
    if (hiddenFromLegacy(conn, cmd, body)) {
      this.metrics.framesHidden.inc({ cmd: commandName(cmd) });
      return;
    }
    if (conn.pendingBytes() > this.maxPendingBytes) {
      this.metrics.errors.inc({ code: 'IM_ERR_SLOW_CONSUMER' });
      // The client learns why it was closed if it catches up within the close grace.
      const why = errorBody('IM_ERR_SLOW_CONSUMER', 'output not read fast enough', 0, 0);
      conn.write(encodeFrame(CommandId.ERROR_NOTIFY, conn.nextServerSeq(), why));
      conn.close('slow consumer: output buffer full', this.log, 'warn');
      return;
    }
    if (conn.write(encodeFrame(cmd, seq, body))) this.metrics.framesOut.inc({ cmd: commandName(cmd) });
  }

  /** An ERROR_NOTIFY (0x0802) naming the request it refuses (`cmd`, `seq`; 0 for none). */
  error(conn: Connection, name: ImErrorCode, text: string, cmd: number, seq: number): void {
    this.write(conn, CommandId.ERROR_NOTIFY, conn.nextServerSeq(), errorBody(name, text, cmd, seq));
  }
}

function errorBody(name: ImErrorCode, text: string, cmd: number, seq: number): Uint8Array {
  return CIM.Ext.MqimErrorNotify.encode({
    errorCode: ImErrorNumber[name],
    errorName: name,
    text,
    requestCmd: cmd,
    requestSeq: seq,
  }).finish();
}
