import { CIM, CommandId } from '@mqim/protocol';
import { createImClient, type ImClient, type ImMessage } from '@mqim/sdk';
import { RawClient } from './raw.client';
import { waitFor } from './net';
import { frame, len, register, varint, type Endpoint } from './voip.scenario';

export interface LegacyScenarioOptions {
  apiUrl: string;
  /** Three endpoints (ideally two gates, TCP and WS mixed). */
  endpoints: [Endpoint, Endpoint, Endpoint];
  /** First of the two user ids the scenario registers. */
  firstUserId: number;
}

const bodyHex = (f: { body: Uint8Array }) => Buffer.from(f.body).toString('hex');
const url = (ep: Endpoint) =>
  ep.transport === 'tcp' ? `tcp://127.0.0.1:${ep.port}` : `ws://127.0.0.1:${ep.port}/ws`;

/**
 * Issue 12 #3 and #4 with CoffeeChat-shaped clients (raw frames, no 0x0803) beside the mqim SDK:
 * X has two legacy devices and one SDK session, Y one legacy device.
 */
export async function runLegacyScenario(o: LegacyScenarioOptions): Promise<void> {
  const [x, y] = [o.firstUserId, o.firstUserId + 1];
  for (const id of [x, y]) await register(o.apiUrl, id, `tk${id}`);
  const raws: RawClient[] = [];
  let sdk: ImClient | undefined;
  const connect = async (ep: Endpoint, userId: number) => {
    const c = await RawClient.connect(ep.transport, ep.port);
    raws.push(c);
    await c.loginWithToken(userId, `tk${userId}`);
    return c;
  };
  try {
    const [ep0, ep1, ep2] = o.endpoints;
    const X1 = await connect(ep0, x);
    const X2 = await connect(ep1, x);
    const Y = await connect(ep1, y);
    sdk = createImClient({ url: url(ep2), reconnect: false, requestTimeoutMs: 10_000 });
    await sdk.loginWithToken(x, `tk${x}`);
    const sdkGot: ImMessage[] = [];
    sdk.on('message', (m) => sdkGot.push(m));

    // X1 sends "hi" to Y, as CoffeeChat's client writes it.
    X1.sendRaw(frame(0x0301, 2, `08${varint(x)} 18${varint(y)} 2203632d31 3801 4001 4a026869`));
    const ack = await X1.next(CommandId.MSG_DATA_ACK, 10_000);
    expect(ack.seq).toBe(2);
    // from x, to y, "c-1", server_msg_id 1, res_code OK (1), single (1), then create_time.
    expect(bodyHex(ack)).toMatch(
      new RegExp(`^08${varint(x)}10${varint(y)}1a03632d3120012801300138[0-9a-f]+$`),
    );
    const atY = CIM.Message.CIMMsgData.decode((await Y.next(CommandId.MSG_DATA, 10_000)).body);
    expect([Number(atY.fromUserId), atY.clientMsgId]).toEqual([x, 'c-1']);
    // The SDK session of X announced self-sync: it gets the copy, filed in the chat with Y.
    await waitFor(() => sdkGot.find((m) => m.clientMsgId === 'c-1'), {
      timeoutMs: 10_000,
      message: 'self-copy at the SDK',
    });
    expect(sdkGot.find((m) => m.clientMsgId === 'c-1')).toMatchObject({ fromUserId: x, sessionId: y });

    // Y answers; the conversation's deliveries are ordered, so once X2 has Y's answer it would
    // have had the copy of X1's message before it. It must not have (CoffeeChat would file it in
    // a chat with itself and send itself receipts).
    Y.sendRaw(frame(0x0301, 2, `08${varint(y)} 18${varint(x)} 2203632d32 3801 4001 4a026f6b`));
    const atX2 = CIM.Message.CIMMsgData.decode((await X2.next(CommandId.MSG_DATA, 10_000)).body);
    expect([Number(atX2.fromUserId), atX2.clientMsgId]).toEqual([y, 'c-2']);
    expect(X2.frames.filter((f) => f.commandId === CommandId.MSG_DATA)).toEqual([]);

    // X1 sends to itself: refused. A legacy client gets no 0x0302 at all (it would show the
    // message as sent), only the 0x0802; its message times out as unsent.
    X1.sendRaw(frame(0x0301, 3, `08${varint(x)} 18${varint(x)} 2203632d33 3801 4001 4a026869`));
    const err = CIM.Ext.MqimErrorNotify.decode((await X1.next(CommandId.ERROR_NOTIFY, 10_000)).body);
    expect([err.errorName, err.requestCmd, err.requestSeq]).toEqual(['IM_ERR_INVALID_ARGUMENT', 0x0301, 3]);
    expect(X1.frames.filter((f) => f.commandId === CommandId.MSG_DATA_ACK)).toEqual([]);

    // The same refusal for a client that announced refused acks (0x0803 flags 2, hand-written):
    // the 0x0302 with res_code not OK and server_msg_id 0, then the reason.
    X2.sendRaw(frame(0x0803, 3, '0802'));
    const caps = await X2.next(CommandId.CLIENT_CAPABILITIES_RSP, 10_000);
    expect([caps.seq, bodyHex(caps)]).toEqual([3, '0802']);
    X2.sendRaw(frame(0x0301, 4, `08${varint(x)} 18${varint(x)} 2203632d34 3801 4001 4a026869`));
    const refused = await X2.next(CommandId.MSG_DATA_ACK, 10_000);
    expect(refused.seq).toBe(4);
    // from x, to x, "c-4", no server_msg_id, no res_code (0), single, then create_time.
    expect(bodyHex(refused)).toMatch(new RegExp(`^08${varint(x)}10${varint(x)}1a03632d34300138[0-9a-f]+$`));
    await X2.next(CommandId.ERROR_NOTIFY, 10_000);
    // It still gets no self-copies: it asked for refused acks only.
    X1.sendRaw(frame(0x0301, 5, `08${varint(x)} 18${varint(y)} 2203632d35 3801 4001 4a026869`));
    await X1.next(CommandId.MSG_DATA_ACK, 10_000);
    await waitFor(() => sdkGot.find((m) => m.clientMsgId === 'c-5'), {
      timeoutMs: 10_000,
      message: 'second self-copy',
    });
    Y.sendRaw(frame(0x0301, 3, `08${varint(y)} 18${varint(x)} 2203632d36 3801 4001 4a026f6b`));
    expect(CIM.Message.CIMMsgData.decode((await X2.next(CommandId.MSG_DATA, 10_000)).body).clientMsgId).toBe(
      'c-6',
    );
    expect(X2.frames.filter((f) => f.commandId === CommandId.MSG_DATA)).toEqual([]);

    // #5: X1 creates group "g1" with Y (0x0501 by hand): the attach is CoffeeChat's JSON of the notice.
    X1.sendRaw(frame(0x0501, 6, `08${varint(x)} 1202 6731 1a${len(varint(y))}${varint(y)}`));
    const created = CIM.Group.CIMGroupCreateRsp.decode(
      (await X1.next(CommandId.GROUP_CREATE_DEFAULT_RSP, 10_000)).body,
    );
    expect(created.resultCode).toBe(200);
    const gid = Number(created.groupInfo!.groupId);
    const attach = JSON.parse(Buffer.from(created.attachNotificationMsg).toString('utf8')) as Record<
      string,
      unknown
    >;
    expect(Object.keys(attach)).toEqual([
      'from_user_id',
      'from_nick_name',
      'to_session_id',
      'client_msg_id',
      'server_msg_id',
      'create_time',
      'msg_type',
      'session_type',
      'msg_data',
    ]);
    expect(attach).toMatchObject({
      from_user_id: gid,
      from_nick_name: 'g1',
      to_session_id: gid,
      msg_type: 9,
      session_type: 2,
    });
    const notice = JSON.parse(Buffer.from(attach.msg_data as string, 'base64').toString('utf8')) as {
      notificationType: number;
    };
    expect(notice.notificationType).toBe(1);
    // 0x0507 lists the group with its version; 0x0509 with exactly those versions answers its info.
    X1.sendRaw(frame(0x0507, 7, `08${varint(x)}`));
    const listed = CIM.Group.CIMGroupListRsp.decode((await X1.next(CommandId.GROUP_LIST_RSP, 10_000)).body);
    const version = listed.groupVersionList.find((v) => Number(v.groupId) === gid)!.groupVersion ?? 0;
    expect(version).toBeGreaterThan(0);
    const entry = `08${varint(gid)} 10${varint(version)}`.replace(/\s+/g, '');
    X1.sendRaw(frame(0x0509, 8, `08${varint(x)} 12${len(entry)}${entry}`));
    const info = CIM.Group.CIMGroupInfoRsp.decode((await X1.next(CommandId.GROUP_INFO_RSP, 10_000)).body);
    expect(info.groupInfoList.map((g) => [Number(g.groupId), g.groupName])).toEqual([[gid, 'g1']]);
    expect(raws.every((c) => !c.closed)).toBe(true);
  } finally {
    for (const c of raws) c.close();
    await sdk?.close();
  }
}
