import pino from 'pino';
import { MemoryBus, type OutgoingMessage } from '@mqim/bus';
import { MemoryCache } from '@mqim/cache';
import { MqimMetrics } from '@mqim/metrics';
import { CIM, CommandId, MqNames, longToNumber, mqim } from '@mqim/protocol';
import { createSqliteStore, type Store } from '@mqim/store';
import { waitFor } from '@mqim/testing';
import { Logic } from './logic';

/**
 * Sync pages (docs/adr/0013) where the byte cap, not the count, ends them: a page stops at its
 * oldest messages that fit, so paging on from the returned cursor / last id visits every message
 * once. 100-byte bodies, 250 bytes per page.
 */
describe('logic - sync pages end at what fits, and the next page starts right after', () => {
  const names = new MqNames('syn');
  const [ANN, BEN, CAT] = [1, 2, 3];
  let bus: MemoryBus;
  let store: Store;
  let logic: Logic;
  const replies: { cmd: number; seq: number; body: Uint8Array }[] = [];

  beforeEach(async () => {
    replies.length = 0;
    bus = new MemoryBus({ retryDelayMs: 10, logger: pino({ level: 'silent' }) });
    store = await createSqliteStore({ filename: ':memory:' });
    const publish = bus.publish.bind(bus);
    bus.publish = async (m: OutgoingMessage) => {
      const id = await publish(m);
      if (m.topic === names.gate('g1'))
        for (const c of mqim.v1.GateBatch.decode(m.body).commands)
          replies.push({ cmd: c.cmd ?? 0, seq: c.seq ?? 0, body: c.body ?? new Uint8Array(0) });
      return id;
    };
    await bus.ensureTopics([...names.sharedTopics(), names.gateTopic('g1')]);
    await bus.ensureGroups([...names.sharedGroups(), names.gateGroupSpec('g1')]);
    logic = new Logic(
      {
        topicPrefix: 'syn',
        historyLimitMax: 100,
        historyMaxBytes: 250,
        maxMsgDataBytes: 1024,
        loginPolicy: 'many',
      },
      {
        bus,
        store,
        cache: new MemoryCache(),
        metrics: new MqimMetrics({ defaultMetrics: false }),
        logger: pino({ level: 'silent' }),
      },
    );
    await logic.start();
    // ann -> ben 5 messages, cat -> ben 4 messages, 100 bytes each.
    for (let id = 1; id <= 5; id++) await save(ANN, BEN, id);
    for (let id = 1; id <= 4; id++) await save(CAT, BEN, id);
  });

  afterEach(async () => {
    await logic.stop();
    await bus.close();
  });

  const save = (from: number, to: number, id: number) =>
    store.messages.save(
      {
        serverMsgId: id,
        clientMsgId: `m-${from}-${id}`,
        fromUserId: from,
        sessionType: 1,
        toSessionId: to,
        msgType: 1,
        msgData: Buffer.alloc(100, 0x61),
        createTime: 1_700_000_000 + id,
      },
      [from, to],
    );

  let seq = 0;
  const ask = async (cmd: number, body: Uint8Array): Promise<Uint8Array> => {
    const mine = ++seq;
    await bus.publish({
      topic: names.upstream,
      messageGroup: `u${BEN}`,
      body: mqim.v1.UpstreamRequest.encode({
        gateId: 'g1',
        connId: 'c1',
        userId: BEN,
        cmd,
        seq: mine,
        body,
        orderKey: `u${BEN}`,
        receivedAtMs: Date.now(),
      }).finish(),
    });
    let found: Uint8Array | undefined;
    await waitFor(() => (found = replies.find((r) => r.seq === mine)?.body) !== undefined, {
      timeoutMs: 3000,
      message: 'no answer',
    });
    return found!;
  };

  it('sync (0x0812) - every message once, in order, over byte-capped pages', async () => {
    const seen: string[] = [];
    let cursor: CIM.Ext.IMqimSyncCursor = { positions: [] };
    let pages = 0;
    for (;;) {
      const rsp = CIM.Ext.MqimSyncRsp.decode(
        await ask(CommandId.SYNC_REQ, CIM.Ext.MqimSyncReq.encode({ cursor }).finish()),
      );
      pages++;
      const bytes = rsp.conversations
        .flatMap((c) => c.msgList ?? [])
        .reduce((n, m) => n + (m.msgData?.length ?? 0), 0);
      expect(bytes).toBeLessThanOrEqual(250);
      for (const c of rsp.conversations)
        for (const m of c.msgList ?? [])
          seen.push(`${longToNumber(c.sessionId)}/${longToNumber(m.serverMsgId)}`);
      cursor = rsp.cursor!;
      if (!rsp.hasMore) break;
      expect(pages).toBeLessThan(20);
    }
    expect(seen).toEqual([
      ...[1, 2, 3, 4, 5].map((i) => `${ANN}/${i}`),
      ...[1, 2, 3, 4].map((i) => `${CAT}/${i}`),
    ]);
    expect(pages).toBe(5); // 2 messages per 250-byte page
    const done = CIM.Ext.MqimSyncRsp.decode(
      await ask(CommandId.SYNC_REQ, CIM.Ext.MqimSyncReq.encode({ cursor }).finish()),
    );
    expect(done.conversations).toEqual([]);
    expect(done.hasMore).toBe(false);
  });

  it('sync (0x0812) - a conversation named twice counts at its lower position; unknown ones are left as given', async () => {
    const cursor = {
      positions: [
        { sessionType: 1, sessionId: ANN, serverMsgId: 4 },
        { sessionType: 1, sessionId: ANN, serverMsgId: 2 },
        { sessionType: 1, sessionId: CAT, serverMsgId: 4 },
        { sessionType: 2, sessionId: 77, serverMsgId: 9 },
      ],
    };
    const rsp = CIM.Ext.MqimSyncRsp.decode(
      await ask(CommandId.SYNC_REQ, CIM.Ext.MqimSyncReq.encode({ cursor }).finish()),
    );
    expect(
      rsp.conversations.map((c) => [
        longToNumber(c.sessionId),
        (c.msgList ?? []).map((m) => longToNumber(m.serverMsgId)),
      ]),
    ).toEqual([[ANN, [3, 4]]]);
    expect(
      (rsp.cursor!.positions ?? []).map((p) => [
        p.sessionType,
        longToNumber(p.sessionId),
        longToNumber(p.serverMsgId),
      ]),
    ).toEqual([
      [1, ANN, 4],
      [1, CAT, 4],
      [2, 77, 9],
    ]);
    expect(rsp.hasMore).toBe(true);
  });

  it('sync one conversation (0x0810) - a byte-capped page says more follow; paging on by the last id is exact', async () => {
    const seen: number[] = [];
    let after = 0;
    for (;;) {
      const rsp = CIM.Ext.MqimSyncConvRsp.decode(
        await ask(
          CommandId.SYNC_CONV_REQ,
          CIM.Ext.MqimSyncConvReq.encode({
            sessionType: 1,
            sessionId: ANN,
            afterServerMsgId: after,
          }).finish(),
        ),
      );
      expect(rsp.msgList.length).toBeLessThanOrEqual(2);
      seen.push(...rsp.msgList.map((m) => longToNumber(m.serverMsgId)));
      if (!rsp.hasMore) break;
      after = seen[seen.length - 1]!;
    }
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });
});
