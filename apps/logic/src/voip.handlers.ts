import type { CallRecord } from '@mqim/cache';
import {
  CIM,
  CommandId,
  MqimError,
  SessionType,
  conversationKey,
  decodeBody,
  laneGroup,
  laneOf,
  mqim,
  toId,
  DEFAULT_LANES,
} from '@mqim/protocol';
import type { MessageRecord } from '@mqim/store';
import { giveBack } from './id.giveback';
import type { LogicDeps } from './logic-deps';
import type { RequestContext } from './request-context';
import { messageStoredEvent } from './send.handler';

/**
 * One-to-one call signalling (0x0401-0x0407), relayed as CoffeeChat's server relays it
 * (docs/protocol.md, "Calls"): the caller's invite opens a call in the shared `CallRegistry` and is
 * answered 100 Trying and forwarded to every device of the callee; the callee's 180/200 go to the
 * caller (a 200 is answered 0x0403, and the callee's other devices stop ringing); a bye is
 * answered 0x0406, the other party gets 0x0407, and the hanger-up stores an AVCHAT message in the
 * conversation so both histories show the call. Everything travels through delivery intents, so
 * the parties may be on any gates, over TCP or WebSocket.
 *
 * Request-keyed: an invite redelivered finds its own call (same channel), a bye redelivered finds
 * the call ended by the same user and repeats the same effects (the AVCHAT message is keyed by the
 * call). An invite nobody answers within `voipRingTimeoutMs` is ended by the server through the
 * same bye path (`VoipTimers`), in the conversation's lane.
 */

/** @default 60000: how long an invite rings before the server ends it (CANCEL). */
export const DEFAULT_RING_TIMEOUT_MS = 60_000;
/**
 * @default 7200000: an answered call lives this long after the answer or the last VoIP heartbeat
 * of either party. Long, because CoffeeChat's clients send no heartbeats: a call forgotten while it
 * lasts would lose its bye (no 0x0407, no AVCHAT message).
 */
export const DEFAULT_CALL_TTL_MS = 2 * 60 * 60_000;
/** An ended call is remembered this long, so a redelivered bye repeats its effects. */
const ENDED_TTL_MS = 10 * 60_000;
/** What a channel name looks like: `021-<callee>-<creator>-<invite ms>` (CoffeeChat: `021-<callee>`). */
const CHANNEL = /^021-(\d{1,16})-(\d{1,16})-(\d{1,16})$/;

const Reason = CIM.Def.CIMVoipByeReason;
const Rsp = CIM.Def.CIMInviteRspCode;

function refuse(
  code: 'IM_ERR_INVALID_ARGUMENT' | 'IM_ERR_FORBIDDEN' | 'IM_ERR_NOT_FOUND',
  text: string,
): never {
  throw new MqimError(code, text);
}

function ringTimeout(deps: LogicDeps): number {
  return deps.options.voipRingTimeoutMs ?? DEFAULT_RING_TIMEOUT_MS;
}
function callTtl(deps: LogicDeps): number {
  return deps.options.voipCallTtlMs ?? DEFAULT_CALL_TTL_MS;
}

/** The callee a channel name of ours names, or undefined (not one of ours). */
export function calleeOfChannel(channelName: string): number | undefined {
  const m = CHANNEL.exec(channelName);
  return m ? Number(m[1]) : undefined;
}

function channelOf(call: CallRecord): CIM.Def.ICIMChannelInfo {
  return { channelName: call.channelName, channelToken: call.channelToken, creatorId: call.creatorId };
}

/** Frames to every device of `userIds` (but the requesting connection when `exceptRequester`). */
function toDevices(
  deps: LogicDeps,
  ctx: RequestContext,
  call: CallRecord,
  userIds: number[],
  cmd: number,
  body: Uint8Array,
  exceptRequester = false,
): void {
  const intent: mqim.v1.IDeliveryIntent = { userIds, cmd, body, originAtMs: ctx.receivedAtMs };
  if (exceptRequester) {
    intent.excludeGateId = ctx.gateId;
    intent.excludeConnId = ctx.connId;
  }
  ctx.after(deps.intents.publish(intent, conversationKey(SessionType.SINGLE, call.creatorId, call.calleeId)));
}

/** The 0x0407 BUSY bye that ends a call attempt of `callerId` to `calleeId` before it rings. */
function busyBye(callerId: number, calleeId: number): Uint8Array {
  return CIM.Voip.CIMVoipByeNotify.encode({
    userId: calleeId,
    channelInfo: { creatorId: callerId },
    byeReason: Reason.VOIP_BYE_REASON_BUSY,
  }).finish();
}

/** 0x0401: open the call, answer 100 Trying, ring every device of the callee. */
async function handleInvite(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const req = decodeBody(CommandId.VOIP_INVITE_REQ, ctx.req.body);
  const creatorId = toId(req.creatorUserId, 'creator_user_id');
  if (creatorId !== 0 && creatorId !== ctx.userId)
    refuse('IM_ERR_FORBIDDEN', 'creator_user_id is not the logged-in user');
  if (req.inviteUserList.length !== 1) refuse('IM_ERR_INVALID_ARGUMENT', 'a call invites exactly one user');
  const calleeId = toId(req.inviteUserList[0]!, 'invite_user_list');
  if (calleeId === ctx.userId) refuse('IM_ERR_INVALID_ARGUMENT', 'cannot call oneself');
  const callType = req.inviteType as number;
  if (callType !== 1 && callType !== 2)
    refuse('IM_ERR_INVALID_ARGUMENT', 'invite_type must be 1 (voice) or 2 (video)');
  if (calleeId === 0 || !(await deps.knownUsers.exists(calleeId)))
    refuse('IM_ERR_NOT_FOUND', `user ${calleeId} does not exist`);

  if (await deps.knownBlocks.blocks(calleeId, ctx.userId)) {
    // ADR 0014: a callee who blocks the caller is never rung; the caller hears busy, as for a
    // callee in another call, so the block is not revealed and nothing is opened or stored.
    await ctx.reply(CommandId.VOIP_BYE_NOTIFY, busyBye(ctx.userId, calleeId));
    return;
  }

  const channelName = `021-${calleeId}-${ctx.userId}-${ctx.receivedAtMs}`;
  // A caller still in a call that never got its bye (the app died mid-call; CoffeeChat's clients
  // send no VoIP heartbeats) hangs that one up by calling again: a user is in one call at a time.
  // The registry frees the caller now; the 0x0407 and the AVCHAT message come from a server bye in
  // that call's conversation lane, so they are ordered with its other messages (not this lane's).
  const stale = await deps.cache.calls.liveOf(ctx.userId);
  if (stale && stale.channelName !== channelName) {
    const ended = await deps.cache.calls.end(stale.creatorId, stale.channelName, ctx.userId, Date.now(), {
      onlyUnanswered: false,
      endedTtlMs: ENDED_TTL_MS,
    });
    if (ended && ended.endedBy === ctx.userId)
      ctx.after(
        publishServerBye(
          deps,
          deps.options.lanes ?? DEFAULT_LANES,
          ended,
          ctx.userId,
          Reason.VOIP_BYE_REASON_END,
        ),
      );
  }
  // Named by the request (the same on a redelivery), so a retry finds the call it opened.
  const call: CallRecord = {
    creatorId: ctx.userId,
    calleeId,
    callType,
    channelName,
    channelToken: '',
    startedAt: ctx.receivedAtMs,
    answeredAt: 0,
    endedAt: 0,
    endedBy: 0,
  };
  const opened =
    (await deps.cache.calls.open(call, ringTimeout(deps) + callTtl(deps))) ||
    (await deps.cache.calls.get(ctx.userId))?.channelName === call.channelName;
  if (!opened) {
    // Either party is in a call: CoffeeChat's clients end the attempt on a BUSY bye.
    await ctx.reply(CommandId.VOIP_BYE_NOTIFY, busyBye(ctx.userId, calleeId));
    return;
  }
  const channelInfo = channelOf(call);
  const trying = CIM.Voip.CIMVoipInviteReply.encode({
    userId: 0,
    rspCode: Rsp.INVITE_RSP_TRYING,
    channelInfo,
  }).finish();
  ctx.after(ctx.reply(CommandId.VOIP_INVITE_REPLY, trying));
  const invite = CIM.Voip.CIMVoipInviteReq.encode({
    creatorUserId: ctx.userId,
    inviteUserList: [calleeId],
    inviteType: callType,
    channelInfo,
  }).finish();
  toDevices(deps, ctx, call, [calleeId], CommandId.VOIP_INVITE_REQ, invite);
  deps.voipTimers?.ringing(call, ringTimeout(deps));
}

/** The live call a reply or ack names, and the requester a party of it. */
async function namedCall(
  deps: LogicDeps,
  ctx: RequestContext,
  info: CIM.Def.ICIMChannelInfo | null | undefined,
): Promise<CallRecord> {
  if (!info) refuse('IM_ERR_INVALID_ARGUMENT', 'channel_info is required');
  const creatorId = toId(info.creatorId ?? 0, 'channel_info.creator_id');
  const call = creatorId === 0 ? undefined : await deps.cache.calls.get(creatorId);
  if (!call || call.channelName !== info.channelName || call.endedAt !== 0)
    refuse('IM_ERR_NOT_FOUND', 'no such call (it ended, or never was)');
  if (ctx.userId !== call.creatorId && ctx.userId !== call.calleeId)
    refuse('IM_ERR_FORBIDDEN', 'not a party of this call');
  return call;
}

/** 0x0402 from the callee: 180 Ringing is forwarded; 200 OK is acked (0x0403), forwarded, and stops the other devices ringing. */
async function handleInviteReply(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const reply = decodeBody(CommandId.VOIP_INVITE_REPLY, ctx.req.body);
  const call = await namedCall(deps, ctx, reply.channelInfo);
  if (ctx.userId !== call.calleeId) refuse('IM_ERR_FORBIDDEN', 'only the callee answers an invite');
  const rspCode = reply.rspCode as number;
  if (rspCode !== Rsp.INVITE_RSP_RINGING && rspCode !== Rsp.INVITE_RSP_OK)
    refuse('IM_ERR_INVALID_ARGUMENT', 'rsp_code must be 180 (ringing) or 200 (ok)');
  let answered = call;
  if (rspCode === Rsp.INVITE_RSP_OK) {
    const now = Date.now();
    const a = await deps.cache.calls.answer(call.creatorId, call.channelName, now, callTtl(deps));
    if (!a) refuse('IM_ERR_NOT_FOUND', 'no such call (it ended, or never was)');
    answered = a;
    const ack = CIM.Voip.CIMVoipInviteReplyAck.encode({ channelInfo: channelOf(call) }).finish();
    ctx.after(ctx.reply(CommandId.VOIP_INVITE_REPLY_ACK, ack));
    // The callee's other devices were ringing too.
    const elsewhere = CIM.Voip.CIMVoipByeNotify.encode({
      userId: call.calleeId,
      channelInfo: channelOf(call),
      byeReason: Reason.VOIP_BYE_REASON_ONLINE_CLIENT_REJECT,
    }).finish();
    toDevices(deps, ctx, call, [call.calleeId], CommandId.VOIP_BYE_NOTIFY, elsewhere, true);
  }
  const forwarded = CIM.Voip.CIMVoipInviteReply.encode({
    userId: ctx.userId,
    rspCode,
    channelInfo: channelOf(answered),
  }).finish();
  toDevices(deps, ctx, call, [call.creatorId], CommandId.VOIP_INVITE_REPLY, forwarded);
}

/** 0x0403 from the caller: it got the 200; the call is established (nothing to answer). */
async function handleReplyAck(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const ack = decodeBody(CommandId.VOIP_INVITE_REPLY_ACK, ctx.req.body);
  const call = await namedCall(deps, ctx, ack.channelInfo);
  if (call.answeredAt === 0) refuse('IM_ERR_INVALID_ARGUMENT', 'the call has not been answered');
}

/** 0x0404: keeps the requester's call alive; no answer. */
async function handleVoipHeartbeat(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  await deps.cache.calls.touch(ctx.userId, callTtl(deps));
}

/**
 * 0x0405: 0x0406 to the hanger-up, 0x0407 to every device of the other party, then the AVCHAT
 * message from the hanger-up. From the server (`VoipTimers`, no gate): an invite that rang out,
 * ended only if still unanswered, 0x0407 to both parties; or, with reason END, a stale call its
 * party (the body's user_id) hung up by calling again, handled as that party's own bye.
 */
async function handleBye(deps: LogicDeps, ctx: RequestContext): Promise<void> {
  const server = ctx.gateId === '';
  const bye = decodeBody(CommandId.VOIP_BYE_REQ, ctx.req.body);
  if (!server)
    ctx.after(
      ctx.reply(
        CommandId.VOIP_BYE_RSP,
        CIM.Voip.CIMVoipByeRsp.encode({ errorCode: CIM.Def.CIMErrorCode.ERR_SUCCESS }).finish(),
      ),
    );
  const info = bye.channelInfo;
  if (!info) return; // nothing named, nothing to end: answered all the same, as CoffeeChat does
  if (server && (bye.byeReason as number) === Reason.VOIP_BYE_REASON_END) {
    await finishStaleCall(deps, ctx, bye);
    return;
  }
  const creatorId = toId(info.creatorId ?? 0, 'channel_info.creator_id');
  const known = creatorId === 0 ? undefined : await deps.cache.calls.get(creatorId);
  if (!known || known.channelName !== info.channelName) return;
  if (!server && ctx.userId !== known.creatorId && ctx.userId !== known.calleeId)
    refuse('IM_ERR_FORBIDDEN', 'not a party of this call');
  const by = server ? 0 : ctx.userId;
  const reason = server ? Reason.VOIP_BYE_REASON_CANCEL : (bye.byeReason as number);
  const call = await deps.cache.calls.end(creatorId, known.channelName, by, Date.now(), {
    onlyUnanswered: server,
    endedTtlMs: ENDED_TTL_MS,
  });
  // Ended by someone else (the other party hung up at the same moment) or, for the server, answered.
  if (!call || call.endedBy !== by) return;
  await ending(deps, ctx, call, reason);
}

/**
 * A server bye for a stale call that its party hung up by calling again (`handleInvite`): the
 * registry ended it then (the new call may have replaced it there since), so the ended record
 * travels in channel_token (JSON; a server request, which no client can make). Its 0x0407 and
 * AVCHAT message are written here, in the call's conversation lane.
 */
async function finishStaleCall(
  deps: LogicDeps,
  ctx: RequestContext,
  bye: CIM.Voip.ICIMVoipByeReq,
): Promise<void> {
  let call: CallRecord;
  try {
    call = JSON.parse(bye.channelInfo?.channelToken ?? '') as CallRecord;
  } catch {
    return;
  }
  const by = toId(bye.userId ?? 0, 'user_id');
  const valid =
    typeof call === 'object' &&
    call !== null &&
    call.channelName === bye.channelInfo?.channelName &&
    call.endedBy === by &&
    (by === call.creatorId || by === call.calleeId) &&
    Number.isSafeInteger(call.endedAt) &&
    call.endedAt > 0;
  if (!valid) {
    deps.logger.warn({ channel: bye.channelInfo?.channelName }, 'malformed stale-call bye dropped');
    return;
  }
  await ending(deps, ctx, call, Reason.VOIP_BYE_REASON_END);
}

/**
 * The effects of a call `end` gave to this request: 0x0407 to every device of the other party
 * (of both, when the server ended it), then the AVCHAT message.
 */
async function ending(deps: LogicDeps, ctx: RequestContext, call: CallRecord, reason: number): Promise<void> {
  const server = call.endedBy === 0;
  const peer = call.endedBy === call.creatorId ? call.calleeId : call.creatorId;
  const notify = CIM.Voip.CIMVoipByeNotify.encode({
    userId: server ? call.creatorId : call.endedBy,
    channelInfo: channelOf(call),
    byeReason: reason,
  }).finish();
  const audience = server ? [call.calleeId, call.creatorId] : [peer];
  toDevices(deps, ctx, call, audience, CommandId.VOIP_BYE_NOTIFY, notify);
  await storeCallMessage(deps, ctx, call, reason);
}

/**
 * The AVCHAT message of an ended call, as CoffeeChat stores it: from the hanger-up (the caller
 * when the invite rang out) to the other party, JSON `{hangup_user_id, hangup_reason, time_len,
 * call_type}`, delivered to every device of both. Keyed by the call, so a redelivered bye stores it
 * once. `time_len` is measured by the server (answer to end, seconds), not taken from the client.
 */
async function storeCallMessage(
  deps: LogicDeps,
  ctx: RequestContext,
  call: CallRecord,
  reason: number,
): Promise<void> {
  const from = call.endedBy === 0 ? call.creatorId : call.endedBy;
  const to = from === call.creatorId ? call.calleeId : call.creatorId;
  const clientMsgId = `avchat-${call.creatorId}-${call.startedAt}`;
  const timeLen =
    call.answeredAt === 0 ? 0 : Math.max(0, Math.round((call.endedAt - call.answeredAt) / 1000));
  const msgData = Buffer.from(
    JSON.stringify({
      hangup_user_id: call.endedBy,
      hangup_reason: reason,
      time_len: timeLen,
      call_type: call.callType,
    }),
  );
  const convKey = conversationKey(SessionType.SINGLE, from, to);
  const conv = { type: SessionType.SINGLE, a: from, b: to } as const;
  let stored = await deps.store.messages.findSent(from, clientMsgId);
  if (!stored) {
    const serverMsgId = await deps.cache.sequences.next(convKey, () =>
      deps.store.messages.maxServerMsgId(conv),
    );
    const record: MessageRecord = {
      serverMsgId,
      clientMsgId,
      fromUserId: from,
      sessionType: SessionType.SINGLE,
      toSessionId: to,
      msgType: CIM.Def.CIMMsgType.MSG_TYPE_AVCHAT,
      msgData,
      attach: '',
      senderClientType: ctx.req.clientType,
      msgStatus: 0,
      createTime: Math.floor(call.endedAt / 1000),
    };
    let result: 'saved' | 'duplicate' | string;
    try {
      result = await deps.store.messages.save(record, [from, to]);
    } catch (err) {
      await giveBack(deps, convKey, conv, serverMsgId, err);
      throw err;
    }
    if (result === 'duplicate') {
      await giveBack(deps, convKey, conv, serverMsgId);
      stored = await deps.store.messages.findSent(from, clientMsgId);
      if (!stored) throw new Error('duplicate call message vanished');
    } else {
      stored = record;
      deps.metrics.messagesStored.inc({ session_type: 'single' });
    }
  }
  const nick = await deps.knownUsers.nickName(from);
  const data = CIM.Message.CIMMsgData.encode({
    fromUserId: stored.fromUserId,
    fromNickName: nick,
    toSessionId: stored.toSessionId,
    clientMsgId: stored.clientMsgId,
    serverMsgId: stored.serverMsgId,
    createTime: stored.createTime,
    msgType: stored.msgType,
    sessionType: stored.sessionType,
    msgData: stored.msgData,
  }).finish();
  ctx.after(
    deps.intents.publish(
      {
        userIds: [to, from],
        cmd: CommandId.MSG_DATA,
        body: data,
        originAtMs: ctx.receivedAtMs,
        push: {
          sessionType: SessionType.SINGLE,
          sessionId: from,
          serverMsgId: stored.serverMsgId,
          fromUserId: from,
          fromNickName: nick,
          msgType: stored.msgType,
          preview: '',
        },
      },
      convKey,
    ),
  );
  const tap: mqim.v1.IPersistedMessage = {
    serverMsgId: stored.serverMsgId,
    clientMsgId: stored.clientMsgId,
    fromUserId: stored.fromUserId,
    sessionType: stored.sessionType,
    toSessionId: stored.toSessionId,
    msgType: stored.msgType,
    createTime: stored.createTime,
    msgDataSize: stored.msgData.length,
    recipientCount: 1,
    senderClientType: stored.senderClientType,
    persistedAtMs: Date.now(),
  };
  ctx.after(deps.tap.publish(tap), deps.events.publish(messageStoredEvent(tap, from)));
}

/**
 * Ends invites that ring out. A timer per ringing call in the logic that opened it; when it fires
 * it publishes a bye of the server's (no gate) in the conversation's lane, so the end is ordered
 * with the parties' own byes and messages and handled by whichever logic takes that lane. A logic
 * that stops takes its timers with it: such a call expires from the registry instead (its parties
 * are free again after ring timeout + call TTL), without the 0x0407 or the AVCHAT message.
 */
export class VoipTimers {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly deps: Pick<LogicDeps, 'bus' | 'names' | 'logger'>,
    private readonly lanes = DEFAULT_LANES,
  ) {}

  ringing(call: CallRecord, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.ringOut(call).catch((err: unknown) =>
        this.deps.logger.warn(
          { err: (err as Error).message, channel: call.channelName },
          'call ring-out not published',
        ),
      );
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private async ringOut(call: CallRecord): Promise<void> {
    await publishServerBye(this.deps, this.lanes, call, call.creatorId, Reason.VOIP_BYE_REASON_CANCEL);
  }
}

/**
 * A bye of the server's (no gate) for `call`, in its conversation's lane: CANCEL ends an invite
 * that rang out; END (with `userId` the party who hung up, and the ended record) finishes a stale
 * call (`finishStaleCall`).
 */
async function publishServerBye(
  deps: Pick<LogicDeps, 'bus' | 'names'>,
  lanes: number,
  call: CallRecord,
  userId: number,
  reason: number,
): Promise<void> {
  const orderKey = conversationKey(SessionType.SINGLE, call.creatorId, call.calleeId);
  const stale = reason === Reason.VOIP_BYE_REASON_END;
  const body = CIM.Voip.CIMVoipByeReq.encode({
    userId,
    channelInfo: stale ? { ...channelOf(call), channelToken: JSON.stringify(call) } : channelOf(call),
    byeReason: reason,
  }).finish();
  const request = mqim.v1.UpstreamRequest.encode({
    gateId: '',
    connId: '',
    userId,
    cmd: CommandId.VOIP_BYE_REQ,
    seq: 0,
    body,
    receivedAtMs: Date.now(),
    orderKey,
  }).finish();
  await deps.bus.publish({
    topic: deps.names.upstream,
    body: request,
    tag: stale ? 'voip-stale-end' : 'voip-ring-out',
    messageGroup: laneGroup(laneOf(orderKey, lanes)),
  });
}

type Handler = (deps: LogicDeps, ctx: RequestContext) => Promise<void>;

export const voipHandlers: [number, Handler][] = [
  [CommandId.VOIP_INVITE_REQ, handleInvite],
  [CommandId.VOIP_INVITE_REPLY, handleInviteReply],
  [CommandId.VOIP_INVITE_REPLY_ACK, handleReplyAck],
  [CommandId.VOIP_HEARTBEAT, handleVoipHeartbeat],
  [CommandId.VOIP_BYE_REQ, handleBye],
];
