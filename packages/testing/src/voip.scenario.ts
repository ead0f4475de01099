import { CIM, CommandId } from '@mqim/protocol';
import { RawClient } from './raw.client';
import { waitFor } from './net';

/** Where a CoffeeChat-shaped client connects: a gate's port over one transport. */
export interface Endpoint {
  transport: 'tcp' | 'ws';
  port: number;
}

export interface VoipScenarioOptions {
  /** The api's base URL (`http://127.0.0.1:<port>`), for CoffeeChat's `/user/register`. */
  apiUrl: string;
  /** Four endpoints; the parties are spread over them (ideally two gates, TCP and WS mixed). */
  endpoints: [Endpoint, Endpoint, Endpoint, Endpoint];
  /** The server's ring timeout (`MQIM_VOIP_RING_TIMEOUT`), so the ring-out step knows how long to wait. */
  ringTimeoutMs: number;
  /** First of the five user ids the scenario registers (each run needs ids of its own). */
  firstUserId: number;
}

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ascii = (s: string) => Buffer.from(s, 'ascii').toString('hex');

/** A protobuf varint, written out by hand (the ids differ per run; everything else is literal). */
export function varint(n: number): string {
  let out = '';
  while (n >= 0x80) {
    out += ((n & 0x7f) | 0x80).toString(16).padStart(2, '0');
    n = Math.floor(n / 128);
  }
  return out + n.toString(16).padStart(2, '0');
}
export const len = (hexBody: string) => varint(hexBody.length / 2);

/** A whole frame, header written out: length, version 1, flag 0, service 0, cmd, seq, reserved 0. */
export function frame(cmd: number, seq: number, bodyHex: string): Buffer {
  const body = bodyHex.replace(/\s+/g, '');
  const length = 16 + body.length / 2;
  return hex(
    length.toString(16).padStart(8, '0') +
      '0001 0000 0000' +
      cmd.toString(16).padStart(4, '0') +
      seq.toString(16).padStart(4, '0') +
      '0000' +
      body,
  );
}

export async function register(apiUrl: string, userId: number, token: string): Promise<void> {
  const res = await fetch(`${apiUrl}/user/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user_id: userId, user_nick_name: `u${userId}`, user_token: token }),
  });
  const answer = JSON.parse(await res.text()) as { error_code: number };
  if (answer.error_code !== 0) throw new Error(`register ${userId}: ${JSON.stringify(answer)}`);
}

/**
 * Issue 12 #1: CoffeeChat's call signalling, byte for byte as its clients send and read it, over the
 * endpoints given (two gates, TCP and WS mixed, on the cluster). Caller A (TCP) invites B, who has
 * two devices (B1, B2 on other endpoints); B1 rings, answers, A acks; A's heartbeat; A hangs up.
 * Then C calls B while B is busy, and D's call to E rings out.
 */
export async function runVoipScenario(o: VoipScenarioOptions): Promise<void> {
  const [a, b, c, d, e] = [0, 1, 2, 3, 4].map((i) => o.firstUserId + i) as [
    number,
    number,
    number,
    number,
    number,
  ];
  for (const id of [a, b, c, d, e]) await register(o.apiUrl, id, `tk${id}`); // 6-7 characters, as Flutter's
  const clients: RawClient[] = [];
  const connect = async (ep: Endpoint, userId: number) => {
    const cl = await RawClient.connect(ep.transport, ep.port);
    clients.push(cl);
    await cl.loginWithToken(userId, `tk${userId}`);
    return cl;
  };
  try {
    const [ep0, ep1, ep2, ep3] = o.endpoints;
    const A = await connect(ep0, a);
    const B1 = await connect(ep1, b);
    const B2 = await connect(ep2, b);
    const C = await connect(ep3, c);

    // 0x0401 as CoffeeChat's client writes it: creator a, invite [b], video (2).
    A.sendRaw(frame(0x0401, 2, `08${varint(a)} 12${len(varint(b))}${varint(b)} 1802`));
    const trying = await A.next(CommandId.VOIP_INVITE_REPLY, 10_000);
    expect(trying.seq).toBe(2);
    const t = CIM.Voip.CIMVoipInviteReply.decode(trying.body);
    const name = t.channelInfo!.channelName!;
    expect(name).toMatch(new RegExp(`^021-${b}-${a}-\\d+$`));
    // The channel as every later frame carries it: name, no token, creator a.
    const channel = `0a${len(ascii(name))}${ascii(name)} 18${varint(a)}`.replace(/\s+/g, '');
    // 100 Trying: user_id 0 (absent), rsp_code 100, channel_info.
    expect(Buffer.from(trying.body).toString('hex')).toBe(
      `1064 1a${len(channel)}${channel}`.replace(/\s+/g, ''),
    );

    // Both of B's devices ring, with the channel the server allocated.
    const inviteHex =
      `08${varint(a)} 12${len(varint(b))}${varint(b)} 1802 22${len(channel)}${channel}`.replace(/\s+/g, '');
    for (const dev of [B1, B2]) {
      const inv = await dev.next(CommandId.VOIP_INVITE_REQ, 10_000);
      expect(Buffer.from(inv.body).toString('hex')).toBe(inviteHex);
    }

    // B1: 180 Ringing, forwarded to A as it is (user_id b).
    const ringing = `08${varint(b)} 10b401 1a${len(channel)}${channel}`.replace(/\s+/g, '');
    B1.sendRaw(frame(0x0402, 2, ringing));
    const r180 = await A.next(CommandId.VOIP_INVITE_REPLY, 10_000);
    expect(Buffer.from(r180.body).toString('hex')).toBe(ringing);

    // B1: 200 OK. B1 gets 0x0403 (its seq), A gets the 200, B2 stops ringing.
    const ok = `08${varint(b)} 10c801 1a${len(channel)}${channel}`.replace(/\s+/g, '');
    B1.sendRaw(frame(0x0402, 3, ok));
    const replyAck = await B1.next(CommandId.VOIP_INVITE_REPLY_ACK, 10_000);
    expect(replyAck.seq).toBe(3);
    expect(Buffer.from(replyAck.body).toString('hex')).toBe(`0a${len(channel)}${channel}`);
    expect(Buffer.from((await A.next(CommandId.VOIP_INVITE_REPLY, 10_000)).body).toString('hex')).toBe(ok);
    const elsewhere = await B2.next(CommandId.VOIP_BYE_NOTIFY, 10_000);
    expect(Buffer.from(elsewhere.body).toString('hex')).toBe(
      `08${varint(b)} 12${len(channel)}${channel} 1805`.replace(/\s+/g, ''),
    );
    A.sendRaw(frame(0x0403, 3, `0a${len(channel)}${channel}`));
    A.sendRaw(frame(0x0404, 4, ''));

    // C calls B, who is in a call: C gets 0x0407 BUSY at once, B hears nothing.
    C.sendRaw(frame(0x0401, 2, `08${varint(c)} 12${len(varint(b))}${varint(b)} 1801`));
    const busy = CIM.Voip.CIMVoipByeNotify.decode((await C.next(CommandId.VOIP_BYE_NOTIFY, 10_000)).body);
    expect(busy.byeReason).toBe(CIM.Def.CIMVoipByeReason.VOIP_BYE_REASON_BUSY);

    // A hangs up (END): 0x0406 success to A (its seq), 0x0407 to both of B's devices.
    A.sendRaw(frame(0x0405, 5, `10${varint(a)} 1a${len(channel)}${channel} 2003`));
    const byeRsp = await A.next(CommandId.VOIP_BYE_RSP, 10_000);
    expect(byeRsp.seq).toBe(5);
    expect(Buffer.from(byeRsp.body).toString('hex')).toBe('08c801');
    const byeNotify = `08${varint(a)} 12${len(channel)}${channel} 1803`.replace(/\s+/g, '');
    for (const dev of [B1, B2])
      expect(Buffer.from((await dev.next(CommandId.VOIP_BYE_NOTIFY, 10_000)).body).toString('hex')).toBe(
        byeNotify,
      );

    // The AVCHAT message, from A to B, reaches every device of both.
    for (const dev of [A, B1, B2]) {
      const m = CIM.Message.CIMMsgData.decode((await dev.next(CommandId.MSG_DATA, 10_000)).body);
      expect([Number(m.fromUserId), Number(m.toSessionId), m.msgType]).toEqual([a, b, 10]);
      const content = JSON.parse(Buffer.from(m.msgData).toString('utf8')) as Record<string, number>;
      expect(content).toMatchObject({ hangup_user_id: a, hangup_reason: 3, call_type: 2 });
      expect(content.time_len).toBeGreaterThanOrEqual(0);
    }
    // ...and B's history shows the call.
    B1.send(
      CommandId.LIST_MSG_REQ,
      9,
      CIM.List.CIMGetMsgListReq.encode({ sessionType: 1, sessionId: a, limitCount: 10 }).finish(),
    );
    const history = CIM.List.CIMGetMsgListRsp.decode((await B1.next(CommandId.LIST_MSG_RSP, 10_000)).body);
    expect(history.msgList.map((m) => m.msgType)).toEqual([10]);

    // D calls E; nobody answers: after the ring timeout both get 0x0407 CANCEL, and the missed
    // call is in the conversation.
    const D = await connect(ep1, d);
    const E = await connect(ep0, e);
    D.sendRaw(frame(0x0401, 2, `08${varint(d)} 12${len(varint(e))}${varint(e)} 1801`));
    await D.next(CommandId.VOIP_INVITE_REPLY, 10_000);
    await E.next(CommandId.VOIP_INVITE_REQ, 10_000);
    for (const dev of [D, E]) {
      const n = CIM.Voip.CIMVoipByeNotify.decode(
        (await dev.next(CommandId.VOIP_BYE_NOTIFY, o.ringTimeoutMs + 15_000)).body,
      );
      expect([Number(n.userId), n.byeReason]).toEqual([d, CIM.Def.CIMVoipByeReason.VOIP_BYE_REASON_CANCEL]);
      const m = CIM.Message.CIMMsgData.decode((await dev.next(CommandId.MSG_DATA, 10_000)).body);
      expect([Number(m.fromUserId), m.msgType]).toEqual([d, 10]);
      expect(JSON.parse(Buffer.from(m.msgData).toString('utf8'))).toMatchObject({
        time_len: 0,
        call_type: 1,
      });
    }
    // The parties are free again: E can call D.
    E.sendRaw(frame(0x0401, 3, `08${varint(e)} 12${len(varint(d))}${varint(d)} 1801`));
    expect(
      CIM.Voip.CIMVoipInviteReply.decode((await E.next(CommandId.VOIP_INVITE_REPLY, 10_000)).body).rspCode,
    ).toBe(100);
    await waitFor(() => D.frames.some((f) => f.commandId === CommandId.VOIP_INVITE_REQ), {
      timeoutMs: 10_000,
    });
    expect(clients.every((cl) => !cl.closed)).toBe(true);
  } finally {
    for (const cl of clients) cl.close();
  }
}
