import { CommandId, ImErrorNumber } from '@mqim/protocol';
import { roomsFixture } from './testing/rooms.fixture';

describe('gate frame writer - frames out, slow consumers closed with a reason', () => {
  it('write - a frame reaches the connection whole, with its command and seq', () => {
    const { ctx, connect } = roomsFixture();
    const { conn, sink } = connect(7);
    ctx.writer.write(conn, CommandId.MSG_DATA, 12, Buffer.from('hello'));
    expect(sink.frames.map((f) => [f.commandId, f.seq, Buffer.from(f.body).toString()])).toEqual([
      [CommandId.MSG_DATA, 12, 'hello'],
    ]);
  });

  it('error - an ERROR_NOTIFY names the code, its number and the request it refuses', () => {
    const { ctx, connect } = roomsFixture();
    const { conn, sink } = connect(7);
    ctx.writer.error(conn, 'IM_ERR_BAD_BODY', 'invalid body', CommandId.MSG_DATA, 4);
    expect(sink.errors()[0]).toMatchObject({
      errorCode: ImErrorNumber.IM_ERR_BAD_BODY,
      errorName: 'IM_ERR_BAD_BODY',
      requestCmd: CommandId.MSG_DATA,
      requestSeq: 4,
    });
  });

  it('slow consumer - past maxPendingBytes the frame is not written; the client is told why and closed', () => {
    const { ctx, connect } = roomsFixture({ maxPendingBytes: 100 });
    const { conn, sink } = connect(7);
    sink.unread = 101;
    ctx.writer.write(conn, CommandId.MSG_DATA, 1, Buffer.from('x'));
    expect(sink.frames.map((f) => f.commandId)).toEqual([CommandId.ERROR_NOTIFY]);
    expect(sink.errors()[0]!.errorName).toBe('IM_ERR_SLOW_CONSUMER');
    expect([conn.closed, sink.closed]).toEqual([true, true]);
    ctx.writer.write(conn, CommandId.MSG_DATA, 2, Buffer.from('y'));
    expect(sink.frames).toHaveLength(1);
  });
});
