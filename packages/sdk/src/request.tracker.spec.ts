import { CommandId } from '@mqim/protocol';
import type { ClientFrame as Frame } from './transport/transport';
import { ImClientError, ImTimeoutError } from './im.errors';
import { RequestTracker } from './request.tracker';

function frame(commandId: number, seq: number): Frame {
  return {
    length: 16,
    version: 1,
    flag: 0,
    serviceId: 0,
    commandId,
    seq,
    reserved: 0,
    body: Buffer.alloc(0),
  };
}

const refuse = (): Error => new Error('refused');
const id = (f: Frame): Frame => f;

describe('RequestTracker', () => {
  it('seq - counts from 1 and wraps 65535 to 1, never 0', () => {
    const t = new RequestTracker();
    expect([t.nextSeq(), t.nextSeq(), t.nextSeq()]).toEqual([1, 2, 3]);
    for (let i = 4; i < 65535; i++) t.nextSeq();
    expect(t.nextSeq()).toBe(65535);
    expect(t.nextSeq()).toBe(1);
  });

  it('seq - skips a seq still in flight after wrapping', async () => {
    const t = new RequestTracker();
    const first = t.nextSeq();
    const pending = t.track(first, CommandId.LIST_MSG_REQ, CommandId.LIST_MSG_RSP, 10_000, refuse, id);
    for (let i = 2; i <= 65535; i++) t.nextSeq();
    expect(t.nextSeq()).toBe(2);
    t.failAll(new Error('done'));
    await expect(pending).rejects.toThrow('done');
  });

  it('settle - matches seq and response command, not seq alone', async () => {
    const t = new RequestTracker();
    const answer = t.track(1, CommandId.LIST_MSG_REQ, CommandId.LIST_MSG_RSP, 10_000, refuse, id);
    // A server-initiated frame with the same seq (the server counts on its own) is not the answer.
    expect(t.settle(frame(CommandId.MSG_DATA, 1))).toBe(false);
    expect(t.settle(frame(CommandId.LIST_MSG_RSP, 2))).toBe(false);
    expect(t.settle(frame(CommandId.LIST_MSG_RSP, 1))).toBe(true);
    await expect(answer).resolves.toMatchObject({ commandId: CommandId.LIST_MSG_RSP, seq: 1 });
    expect(t.size).toBe(0);
  });

  it('timeout - rejects with IM_ERR_TIMEOUT and forgets the request', async () => {
    const t = new RequestTracker();
    const answer = t.track(7, CommandId.LIST_MSG_REQ, CommandId.LIST_MSG_RSP, 20, refuse, id);
    await expect(answer).rejects.toBeInstanceOf(ImTimeoutError);
    await expect(answer).rejects.toMatchObject({
      code: 'IM_ERR_TIMEOUT',
      seq: 7,
      command: CommandId.LIST_MSG_REQ,
    });
    expect(t.size).toBe(0);
    expect(t.settle(frame(CommandId.LIST_MSG_RSP, 7))).toBe(false);
  });

  it('refuse - an error notify naming the seq (and command) rejects that request', async () => {
    const t = new RequestTracker();
    const answer = t.track(
      3,
      CommandId.MSG_DATA,
      CommandId.MSG_DATA_ACK,
      10_000,
      (d) => new Error(d.errorName),
      id,
    );
    const detail = {
      errorCode: 10201,
      errorName: 'IM_ERR_FORBIDDEN',
      text: '',
      requestCmd: CommandId.LIST_MSG_REQ,
      requestSeq: 3,
    };
    expect(t.refuse(detail)).toBe(false); // names another command
    expect(t.refuse({ ...detail, requestCmd: CommandId.MSG_DATA })).toBe(true);
    await expect(answer).rejects.toThrow('IM_ERR_FORBIDDEN');
  });

  it('awaitRefusalDetail - takes the notify that follows a negative response, or times out empty', async () => {
    const t = new RequestTracker();
    const waiting = t.awaitRefusalDetail(4, CommandId.MSG_DATA, 1000);
    const detail = { errorCode: 1, errorName: 'X', text: 'why', requestCmd: 0, requestSeq: 4 };
    expect(t.refuse(detail)).toBe(true);
    await expect(waiting).resolves.toEqual(detail);
    await expect(t.awaitRefusalDetail(5, CommandId.MSG_DATA, 10)).resolves.toBeUndefined();
  });

  it('onResponse - a throwing mapper rejects the request', async () => {
    const t = new RequestTracker();
    const answer = t.track(1, CommandId.LIST_MSG_REQ, CommandId.LIST_MSG_RSP, 10_000, refuse, () => {
      throw new ImClientError('IM_ERR_PROTOCOL', 'bad');
    });
    t.settle(frame(CommandId.LIST_MSG_RSP, 1));
    await expect(answer).rejects.toMatchObject({ code: 'IM_ERR_PROTOCOL' });
  });

  it('failAll - rejects everything in flight and clears its timers', async () => {
    const t = new RequestTracker();
    const a = t.track(1, CommandId.LIST_MSG_REQ, CommandId.LIST_MSG_RSP, 10_000, refuse, id);
    const b = t.awaitRefusalDetail(2, CommandId.MSG_DATA, 10_000);
    t.failAll(new ImClientError('IM_ERR_CONNECTION_LOST', 'gone'));
    await expect(a).rejects.toMatchObject({ code: 'IM_ERR_CONNECTION_LOST' });
    await expect(b).resolves.toBeUndefined();
    expect(t.size).toBe(0);
  });
});
