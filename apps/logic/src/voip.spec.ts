import pino from 'pino';
import { MemoryBus, type ReceivedMessage } from '@mqim/bus';
import { MemoryCache } from '@mqim/cache';
import { MqimMetrics } from '@mqim/metrics';
import {
  CIM,
  CommandId,
  DEFAULT_LANES,
  MqNames,
  SessionType,
  conversationKey,
  decodeIntents,
  laneGroup,
  laneOf,
  mqim,
} from '@mqim/protocol';
import { createSqliteStore, type Store } from '@mqim/store';
import { waitFor } from '@mqim/testing';
import { Logic } from './logic';

/**
 * Calls are request-keyed (STYLE, "every handler is request-keyed"): a bye that arrives twice, two
 * byes at once, or a bye whose store write fails once end the call once and store one AVCHAT
 * message; only a party of a call can answer or end it.
 */
describe('logic - call signalling', () => {
  const names = new MqNames('voip');
  let bus: MemoryBus;
  let store: Store;
  let logic: Logic;
  const frames: { connId: string; cmd: number; seq: number; body: Uint8Array }[] = [];
  const intents: { userIds: number[]; cmd: number; body: Uint8Array }[] = [];

  beforeEach(async () => {
    frames.length = 0;
    intents.length = 0;
    bus = new MemoryBus({ retryDelayMs: 20, logger: pino({ level: 'silent' }) });
    store = await createSqliteStore({ filename: ':memory:' });
    for (const [userId, nickName] of [
      [1, 'caller'],
      [2, 'callee'],
      [3, 'mallory'],
    ] as const)
      await store.users.create({ userId, nickName, userName: nickName });
    await bus.ensureTopics([...names.sharedTopics(), names.gateTopic('g1')]);
    await bus.ensureGroups([...names.sharedGroups(), names.gateGroupSpec('g1')]);
    await bus.subscribe(
      { topic: names.gate('g1'), group: names.gateGroup('g1') },
      async (m: ReceivedMessage) => {
        for (const c of mqim.v1.GateBatch.decode(m.body).commands)
          frames.push({
            connId: c.connId ?? '',
            cmd: c.cmd ?? 0,
            seq: c.seq ?? 0,
            body: c.body ?? new Uint8Array(0),
          });
      },
    );
    await bus.subscribe(
      { topic: names.deliver, group: names.jobDeliverGroup },
      async (m: ReceivedMessage) => {
        for (const i of decodeIntents(m.body, m.tag))
          intents.push({ userIds: i.userIds.map(Number), cmd: i.cmd, body: i.body });
      },
    );
    logic = new Logic(
      { topicPrefix: 'voip', historyLimitMax: 100, maxMsgDataBytes: 1024, loginPolicy: 'many' },
      {
        bus,
        store,
        cache: new MemoryCache(),
        metrics: new MqimMetrics({ defaultMetrics: false }),
        logger: pino({ level: 'silent' }),
      },
    );
    await logic.start();
  });
  afterEach(async () => {
    await logic.stop();
    await bus.close();
    await store.close();
  });

  const request = (
    userId: number,
    cmd: number,
    seq: number,
    body: Uint8Array,
    receivedAtMs = 1_000 + seq,
  ) => {
    const orderKey =
      cmd === CommandId.VOIP_BYE_REQ ? conversationKey(SessionType.SINGLE, 1, 2) : `u${userId}`;
    return bus.publish({
      topic: names.upstream,
      messageGroup: orderKey,
      body: mqim.v1.UpstreamRequest.encode({
        gateId: 'g1',
        connId: `c${userId}`,
        userId,
        cmd,
        seq,
        body,
        orderKey,
        receivedAtMs,
      }).finish(),
    });
  };
  const answer = (connId: string, cmd: number, seq: number) =>
    waitFor(() => frames.find((f) => f.connId === connId && f.cmd === cmd && f.seq === seq), {
      timeoutMs: 5_000,
      message: `0x${cmd.toString(16)} seq ${seq} to ${connId}`,
    });
  const refusal = async (connId: string, seq: number) =>
    CIM.Ext.MqimErrorNotify.decode(
      (
        await waitFor(
          () =>
            frames.find(
              (f) =>
                f.connId === connId &&
                f.cmd === CommandId.ERROR_NOTIFY &&
                CIM.Ext.MqimErrorNotify.decode(f.body).requestSeq === seq,
            ),
          { timeoutMs: 5_000 },
        )
      ).body,
    ).errorName;

  /** Caller 1 invites 2, 2 answers 200: the channel of the call. */
  async function establish(): Promise<CIM.Def.ICIMChannelInfo> {
    await request(
      1,
      CommandId.VOIP_INVITE_REQ,
      2,
      CIM.Voip.CIMVoipInviteReq.encode({ inviteUserList: [2], inviteType: 1 }).finish(),
    );
    const channelInfo = CIM.Voip.CIMVoipInviteReply.decode(
      (await answer('c1', CommandId.VOIP_INVITE_REPLY, 2)).body,
    ).channelInfo!;
    await request(
      2,
      CommandId.VOIP_INVITE_REPLY,
      3,
      CIM.Voip.CIMVoipInviteReply.encode({ userId: 2, rspCode: 200, channelInfo }).finish(),
    );
    await answer('c2', CommandId.VOIP_INVITE_REPLY_ACK, 3);
    return channelInfo;
  }
  const bye = (userId: number, seq: number, channelInfo: CIM.Def.ICIMChannelInfo, receivedAtMs?: number) =>
    request(
      userId,
      CommandId.VOIP_BYE_REQ,
      seq,
      CIM.Voip.CIMVoipByeReq.encode({ userId, channelInfo, byeReason: 3 }).finish(),
      receivedAtMs,
    );
  const avchats = async () =>
    (await store.messages.history(2, SessionType.SINGLE, 1, { limit: 100 })).filter((m) => m.msgType === 10);

  it('bye - both parties hang up at once and one bye comes twice: one end, one AVCHAT message', async () => {
    const channel = await establish();
    await Promise.all([bye(1, 5, channel, 5_000), bye(2, 6, channel), bye(1, 5, channel, 5_000)]);
    await answer('c1', CommandId.VOIP_BYE_RSP, 5);
    await answer('c2', CommandId.VOIP_BYE_RSP, 6);
    await waitFor(async () => (await avchats()).length > 0, { timeoutMs: 5_000 });
    await bye(1, 7, channel);
    await answer('c1', CommandId.VOIP_BYE_RSP, 7);
    const stored = await avchats();
    expect(stored).toHaveLength(1);
    expect(JSON.parse(Buffer.from(stored[0]!.msgData).toString('utf8'))).toMatchObject({
      hangup_reason: 3,
      call_type: 1,
    });
  });

  it('bye - a store write that fails once is retried: the call ends once, one AVCHAT message', async () => {
    const channel = await establish();
    const save = store.messages.save.bind(store.messages);
    let failures = 0;
    store.messages.save = async (...args) => {
      if (failures++ === 0) throw new Error('database went away');
      return save(...args);
    };
    await bye(2, 5, channel);
    await waitFor(async () => (await avchats()).length > 0, { timeoutMs: 5_000 });
    expect(failures).toBeGreaterThan(1);
    expect(await avchats()).toHaveLength(1);
    expect(Number((await avchats())[0]!.fromUserId)).toBe(2);
  });

  it('stale - a caller whose call never got its bye calls again: that call ends first, the new one rings', async () => {
    const old = await establish();
    const upstream: { group: string; req: mqim.v1.UpstreamRequest }[] = [];
    const publish = bus.publish.bind(bus);
    bus.publish = async (m) => {
      if (m.topic === names.upstream)
        upstream.push({ group: m.messageGroup ?? '', req: mqim.v1.UpstreamRequest.decode(m.body) });
      return publish(m);
    };
    await request(
      1,
      CommandId.VOIP_INVITE_REQ,
      9,
      CIM.Voip.CIMVoipInviteReq.encode({ inviteUserList: [3], inviteType: 1 }).finish(),
    );
    const trying = CIM.Voip.CIMVoipInviteReply.decode(
      (await answer('c1', CommandId.VOIP_INVITE_REPLY, 9)).body,
    );
    expect(trying.rspCode).toBe(100);
    const byes = () =>
      intents
        .filter((i) => i.cmd === CommandId.VOIP_BYE_NOTIFY)
        .map((i) => ({ userIds: i.userIds, n: CIM.Voip.CIMVoipByeNotify.decode(i.body) }))
        .filter((b) => b.n.byeReason === CIM.Def.CIMVoipByeReason.VOIP_BYE_REASON_END);
    await waitFor(() => byes().length === 1, { timeoutMs: 5_000 });
    expect(byes().map((b) => [b.userIds, Number(b.n.userId), b.n.channelInfo?.channelName])).toEqual([
      [[2], 1, old.channelName],
    ]);
    expect(intents.find((i) => i.cmd === CommandId.VOIP_INVITE_REQ && i.userIds[0] === 3)).toBeDefined();
    await waitFor(async () => (await avchats()).length === 1, { timeoutMs: 5_000 });
    // The old call's end went through its own conversation's lane (a server bye from the caller),
    // not the invite's: its AVCHAT message is ordered with that conversation's messages.
    const pair = conversationKey(SessionType.SINGLE, 1, 2);
    expect(
      upstream
        .filter((u) => u.req.gateId === '' && u.req.cmd === CommandId.VOIP_BYE_REQ)
        .map((u) => [u.group, u.req.orderKey, Number(u.req.userId)]),
    ).toEqual([[laneGroup(laneOf(pair, DEFAULT_LANES)), pair, 1]]);
    // Handled once: one 0x0407, one AVCHAT message.
    expect(byes()).toHaveLength(1);
    const [avchat] = await avchats();
    expect(avchat!.fromUserId).toBe(1);
    expect(JSON.parse(Buffer.from(avchat!.msgData).toString())).toMatchObject({
      hangup_user_id: 1,
      hangup_reason: CIM.Def.CIMVoipByeReason.VOIP_BYE_REASON_END,
      call_type: 1,
    });
  });

  it('forged - a user who is not a party can neither answer nor end a call; the parties still can', async () => {
    await request(
      1,
      CommandId.VOIP_INVITE_REQ,
      2,
      CIM.Voip.CIMVoipInviteReq.encode({ inviteUserList: [2], inviteType: 2 }).finish(),
    );
    const channelInfo = CIM.Voip.CIMVoipInviteReply.decode(
      (await answer('c1', CommandId.VOIP_INVITE_REPLY, 2)).body,
    ).channelInfo!;
    await request(
      3,
      CommandId.VOIP_INVITE_REPLY,
      4,
      CIM.Voip.CIMVoipInviteReply.encode({ userId: 3, rspCode: 200, channelInfo }).finish(),
    );
    expect(await refusal('c3', 4)).toBe('IM_ERR_FORBIDDEN');
    await request(
      3,
      CommandId.VOIP_BYE_REQ,
      5,
      CIM.Voip.CIMVoipByeReq.encode({ channelInfo, byeReason: 1 }).finish(),
    );
    expect(await refusal('c3', 5)).toBe('IM_ERR_FORBIDDEN');
    await request(
      2,
      CommandId.VOIP_INVITE_REPLY,
      3,
      CIM.Voip.CIMVoipInviteReply.encode({ userId: 2, rspCode: 200, channelInfo }).finish(),
    );
    await answer('c2', CommandId.VOIP_INVITE_REPLY_ACK, 3);
    expect(await avchats()).toHaveLength(0);
  });

  it('blocked - a callee who blocks the caller is not rung: the caller hears busy, nothing is opened', async () => {
    await store.contacts.setBlocked(2, 1, true);
    await request(
      1,
      CommandId.VOIP_INVITE_REQ,
      2,
      CIM.Voip.CIMVoipInviteReq.encode({ inviteUserList: [2], inviteType: 1 }).finish(),
    );
    const bye = CIM.Voip.CIMVoipByeNotify.decode((await answer('c1', CommandId.VOIP_BYE_NOTIFY, 2)).body);
    expect([Number(bye.userId), bye.byeReason]).toEqual([2, CIM.Def.CIMVoipByeReason.VOIP_BYE_REASON_BUSY]);
    // The caller is in no call: the next invite (same order key, so handled after) rings user 3.
    await request(
      1,
      CommandId.VOIP_INVITE_REQ,
      3,
      CIM.Voip.CIMVoipInviteReq.encode({ inviteUserList: [3], inviteType: 1 }).finish(),
    );
    await answer('c1', CommandId.VOIP_INVITE_REPLY, 3);
    await waitFor(() => intents.find((i) => i.cmd === CommandId.VOIP_INVITE_REQ && i.userIds[0] === 3), {
      timeoutMs: 5_000,
    });
    expect(frames.filter((f) => f.cmd === CommandId.VOIP_INVITE_REPLY && f.seq === 2)).toEqual([]);
    expect(intents.filter((i) => i.userIds.includes(2))).toEqual([]);
    expect(await avchats()).toHaveLength(0);
  });

  it('invite - several invitees, oneself, an unknown user, a forged creator or type are refused', async () => {
    const invite = (seq: number, body: CIM.Voip.ICIMVoipInviteReq) =>
      request(1, CommandId.VOIP_INVITE_REQ, seq, CIM.Voip.CIMVoipInviteReq.encode(body).finish());
    await invite(2, { inviteUserList: [2, 3], inviteType: 1 });
    await invite(3, { inviteUserList: [1], inviteType: 1 });
    await invite(4, { inviteUserList: [99], inviteType: 1 });
    await invite(5, { creatorUserId: 3, inviteUserList: [2], inviteType: 1 });
    await invite(6, { inviteUserList: [2], inviteType: 7 as CIM.Def.CIMVoipInviteType });
    expect(await Promise.all([2, 3, 4, 5, 6].map((seq) => refusal('c1', seq)))).toEqual([
      'IM_ERR_INVALID_ARGUMENT',
      'IM_ERR_INVALID_ARGUMENT',
      'IM_ERR_NOT_FOUND',
      'IM_ERR_FORBIDDEN',
      'IM_ERR_INVALID_ARGUMENT',
    ]);
    expect(frames.filter((f) => f.cmd === CommandId.VOIP_INVITE_REPLY)).toEqual([]);
  });
});
