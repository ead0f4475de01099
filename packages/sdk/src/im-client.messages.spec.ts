import { randomUUID } from 'node:crypto';
import { CommandId, decodeBody } from '@mqim/protocol';
import { ImSendRefusedError } from './im.errors';
import { MsgType, SessionType } from './im.types';
import { ALICE, BOB, CAROL, nextEvent, startHarness, type ClientHarness } from './testing';

describe.each(['tcp', 'ws'] as const)('ImClient over %s - messages', (transport) => {
  let h: ClientHarness;
  beforeEach(async () => {
    h = await startHarness({
      transport,
      groups: [{ groupId: 100, name: 'team', ownerId: 1, memberIds: [2] }],
    });
  });
  afterEach(() => h.close());

  it('send - resolves with the stored ack; seqs count from 1 on the connection', async () => {
    const alice = await h.login(ALICE);
    const first = await alice.send({ to: BOB.userId, text: 'hi' });
    const second = await alice.send({ to: BOB.userId, text: 'again' });
    expect(first).toMatchObject({ serverMsgId: 1, clientMsgId: expect.any(String) });
    expect(second.serverMsgId).toBe(2);
    expect(typeof first.createTime).toBe('number');
    const frames = h.server.received.filter((f) => f.connId === h.server.connections[0].id);
    expect(frames.map((f) => f.seq)).toEqual([1, 2, 3, 4]); // capabilities (0x0803), login, send, send
    expect(frames.map((f) => f.cmd)).toEqual([
      CommandId.CLIENT_CAPABILITIES_REQ,
      CommandId.LOGIN_AUTH_TOKEN_REQ,
      CommandId.MSG_DATA,
      CommandId.MSG_DATA,
    ]);
  });

  it('send - a retry with the same clientMsgId gets the same serverMsgId', async () => {
    const alice = await h.login(ALICE);
    const clientMsgId = randomUUID();
    const a = await alice.send({ to: BOB.userId, text: 'once', clientMsgId });
    const b = await alice.send({ to: BOB.userId, text: 'once', clientMsgId });
    expect(b).toEqual(a);
    expect(h.server.store.messages).toHaveLength(1);
  });

  it('send - encodes the CIMMsgData fields the server expects', async () => {
    const alice = await h.login(ALICE);
    await alice.send({
      to: 100,
      sessionType: SessionType.GROUP,
      data: Buffer.from('{"x":1}'),
      msgType: MsgType.LOCATION,
    });
    const frame = await h.server.waitForFrame((f) => f.cmd === CommandId.MSG_DATA);
    const body = decodeBody(CommandId.MSG_DATA, frame.body);
    expect(Number(body.fromUserId)).toBe(1);
    expect(Number(body.toSessionId)).toBe(100);
    expect(body.sessionType).toBe(2);
    expect(body.msgType).toBe(MsgType.LOCATION);
    expect(Buffer.from(body.msgData).toString()).toBe('{"x":1}');
    expect(body.clientMsgId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('send - a non-OK ack rejects with IM_ERR_SEND_REFUSED carrying the error notify', async () => {
    const alice = await h.login(ALICE);
    const failure = await alice
      .send({ to: ALICE.userId, text: 'me', clientMsgId: 'c1' })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ImSendRefusedError);
    expect(failure).toMatchObject({
      code: 'IM_ERR_SEND_REFUSED',
      clientMsgId: 'c1',
      resCode: 0,
      detail: {
        errorName: 'IM_ERR_INVALID_ARGUMENT',
        text: 'cannot send a message to oneself',
        requestCmd: CommandId.MSG_DATA,
      },
    });
  });

  it('send - an error notify that arrives before the ack rejects too', async () => {
    h.server.handle(CommandId.MSG_DATA, ({ conn, seq }) => {
      conn.write(CommandId.ERROR_NOTIFY, conn.nextServerSeq(), {
        errorCode: 10104,
        errorName: 'IM_ERR_RATE_LIMITED',
        text: 'slow down',
        requestCmd: CommandId.MSG_DATA,
        requestSeq: seq,
      });
      conn.write(CommandId.MSG_DATA_ACK, seq, { resCode: 0 });
    });
    const alice = await h.login(ALICE);
    const serverErrors: unknown[] = [];
    alice.on('serverError', (e) => serverErrors.push(e));
    await expect(alice.send({ to: BOB.userId, text: 'x' })).rejects.toMatchObject({
      code: 'IM_ERR_SEND_REFUSED',
      resCode: undefined,
      detail: { errorName: 'IM_ERR_RATE_LIMITED' },
    });
    await alice.friends(); // the late ack is read and ignored; the connection still works
    expect(serverErrors).toEqual([]);
  });

  it('send - a non-OK ack without explanation rejects after the grace period', async () => {
    h.server.handle(CommandId.MSG_DATA, ({ conn, seq }) =>
      conn.write(CommandId.MSG_DATA_ACK, seq, { resCode: 0 }),
    );
    const alice = await h.login(ALICE, { refusalDetailGraceMs: 20 });
    await expect(alice.send({ to: BOB.userId, text: 'x' })).rejects.toMatchObject({
      code: 'IM_ERR_SEND_REFUSED',
      resCode: 0,
      detail: undefined,
    });
  });

  it('send - no ack in time rejects with IM_ERR_TIMEOUT; the connection stays usable', async () => {
    h.server.handle(CommandId.MSG_DATA, () => undefined);
    const alice = await h.login(ALICE, { requestTimeoutMs: 50 });
    await expect(alice.send({ to: BOB.userId, text: 'lost?' })).rejects.toMatchObject({
      code: 'IM_ERR_TIMEOUT',
    });
    await expect(alice.friends()).resolves.toHaveLength(2);
  });

  it('send - text xor data, ids checked before anything is sent', async () => {
    const alice = await h.login(ALICE);
    await expect(alice.send({ to: BOB.userId })).rejects.toMatchObject({ code: 'IM_ERR_INVALID_ARGUMENT' });
    await expect(alice.send({ to: -1, text: 'x' })).rejects.toMatchObject({
      code: 'IM_ERR_INVALID_ARGUMENT',
    });
    await expect(alice.send({ to: 2 ** 53, text: 'x' })).rejects.toMatchObject({
      code: 'IM_ERR_INVALID_ARGUMENT',
    });
    expect(h.server.received.filter((f) => f.cmd === CommandId.MSG_DATA)).toHaveLength(0);
  });

  it('responses - matched by seq even when the server answers out of order', async () => {
    let held: (() => void) | undefined;
    h.server.handle(CommandId.FRIEND_QUERY_USER_LIST_REQ, ({ conn, seq }) => {
      const reply = (): void =>
        conn.write(CommandId.FRIEND_QUERY_USER_LIST_RSP, seq, { userId: 1, userInfoList: [{ userId: 2 }] });
      if (held === undefined) held = reply;
      else reply();
    });
    h.server.handle(CommandId.GROUP_LIST_MEMBER_REQ, ({ conn, seq }) => {
      conn.write(CommandId.GROUP_LIST_MEMBER_RSP, seq, { groupId: 100, memberIdList: [1, 2] });
      held?.();
    });
    const alice = await h.login(ALICE);
    const friends = alice.friends();
    await h.server.waitForFrame((f) => f.cmd === CommandId.FRIEND_QUERY_USER_LIST_REQ);
    const members = alice.groupMembers(100);
    await expect(members).resolves.toEqual([1, 2]);
    await expect(friends).resolves.toMatchObject([{ userId: 2 }]);
  });

  it('message event - delivered decoded, ids as numbers, sessionId from my side', async () => {
    const alice = await h.login(ALICE);
    const bob = await h.login(BOB);
    const received = nextEvent(bob, 'message');
    const sent = await alice.send({ to: BOB.userId, text: 'hello bob' });
    const msg = await received;
    expect(msg).toMatchObject({
      clientMsgId: sent.clientMsgId,
      serverMsgId: sent.serverMsgId,
      fromUserId: 1,
      fromNickName: 'Alice',
      toSessionId: 2,
      sessionId: 1,
      sessionType: 1,
      msgType: MsgType.TEXT,
      text: 'hello bob',
    });
    // A plain Uint8Array (the same type in a browser), decoding to the text that was sent.
    expect(msg.data).toBeInstanceOf(Uint8Array);
    expect(new TextDecoder().decode(msg.data)).toBe('hello bob');
  });

  it('receipts - sent automatically for a delivered message from someone else', async () => {
    const alice = await h.login(ALICE);
    const bob = await h.login(BOB);
    const received = nextEvent(bob, 'message');
    const sent = await alice.send({ to: BOB.userId, text: 'ack me' });
    await received;
    const frame = await h.server.waitForFrame(
      (f) => f.cmd === CommandId.MSG_DATA_ACK && f.userId === BOB.userId,
    );
    const receipt = decodeBody(CommandId.MSG_DATA_ACK, frame.body);
    expect({
      from: Number(receipt.fromUserId),
      to: Number(receipt.toSessionId),
      clientMsgId: receipt.clientMsgId,
      serverMsgId: Number(receipt.serverMsgId),
      sessionType: receipt.sessionType,
    }).toEqual({
      from: 2,
      to: 1,
      clientMsgId: sent.clientMsgId,
      serverMsgId: sent.serverMsgId,
      sessionType: 1,
    });
  });

  it('receipts - a group message is receipted to the group', async () => {
    const alice = await h.login(ALICE);
    const bob = await h.login(BOB);
    const received = nextEvent(bob, 'message');
    await alice.send({ to: 100, sessionType: SessionType.GROUP, text: 'team!' });
    expect(await received).toMatchObject({ sessionId: 100, fromUserId: 1, sessionType: 2 });
    const frame = await h.server.waitForFrame(
      (f) => f.cmd === CommandId.MSG_DATA_ACK && f.userId === BOB.userId,
    );
    expect(Number(decodeBody(CommandId.MSG_DATA_ACK, frame.body).toSessionId)).toBe(100);
  });

  it('receipts - none with autoReceipts off, and none for our own messages from another device', async () => {
    const alice = await h.login(ALICE);
    const aliceTablet = await h.login(ALICE);
    const bob = await h.login(BOB, { autoReceipts: false });
    const onTablet = nextEvent(aliceTablet, 'message');
    const onBob = nextEvent(bob, 'message');
    await alice.send({ to: BOB.userId, text: 'synced' });
    expect(await onTablet).toMatchObject({ fromUserId: 1, sessionId: 2 });
    await onBob;
    await alice.friends(); // a round trip, so a receipt would have arrived by now
    expect(h.server.received.filter((f) => f.cmd === CommandId.MSG_DATA_ACK)).toEqual([]);
  });

  it('markRead - the peer gets a readNotify naming the reader', async () => {
    const alice = await h.login(ALICE);
    const bob = await h.login(BOB);
    const { serverMsgId } = await alice.send({ to: BOB.userId, text: 'read me' });
    const notified = nextEvent(alice, 'readNotify');
    await bob.markRead(SessionType.SINGLE, ALICE.userId, serverMsgId);
    expect(await notified).toEqual({ readerId: 2, sessionType: 1, sessionId: 2, msgId: serverMsgId });
  });

  it('queries - recent sessions, history, latest id, by id, friends', async () => {
    const alice = await h.login(ALICE);
    const bob = await h.login(BOB);
    for (const text of ['one', 'two', 'three']) await alice.send({ to: BOB.userId, text });
    const fromCarol = await h.login(CAROL);
    const last = await fromCarol.send({ to: BOB.userId, text: 'carol here' });

    const recent = await bob.recentSessions();
    expect(recent.unreadTotal).toBe(4);
    expect(recent.sessions.map((s) => [s.sessionId, s.unreadCount, s.lastMessage?.text])).toEqual([
      [3, 1, 'carol here'],
      [1, 3, 'three'],
    ]);

    const page = await bob.history({ sessionType: SessionType.SINGLE, sessionId: ALICE.userId, limit: 2 });
    expect(page.map((m) => [m.serverMsgId, m.text, m.sessionId])).toEqual([
      [2, 'two', 1],
      [3, 'three', 1],
    ]);
    const older = await bob.history({
      sessionType: SessionType.SINGLE,
      sessionId: ALICE.userId,
      endMsgId: 2,
    });
    expect(older.map((m) => m.text)).toEqual(['one']);

    expect(await bob.latestMsgId({ sessionType: SessionType.SINGLE, sessionId: CAROL.userId })).toBe(
      last.clientMsgId,
    );
    expect(await bob.latestMsgId({ sessionType: SessionType.SINGLE, sessionId: 99 })).toBeUndefined();
    const byId = await bob.messagesById({
      sessionType: SessionType.SINGLE,
      sessionId: CAROL.userId,
      clientMsgIds: [last.clientMsgId],
    });
    expect(byId).toMatchObject([{ text: 'carol here', fromUserId: 3 }]);

    // Contacts only (the fake makes Alice everyone's contact): Carol wrote to Bob but is a stranger.
    expect((await bob.friends()).map((u) => [u.userId, u.nickName])).toEqual([[1, 'Alice']]);
  });
});
