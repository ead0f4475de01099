import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { MqNames, decodePersisted, messageEventId, mqim } from '@mqim/protocol';
import { createBus } from '@mqim/composition';
import { createImClient, type ImClient, type RecallNotice, type SyncCursor } from '@mqim/sdk';
import {
  describeInfra,
  probeMysql,
  probeRedis,
  probeRocketMq,
  startCluster,
  startMqim,
  waitFor,
  type MqimCluster,
  type MqimProcess,
} from '@mqim/testing';
import { clusterConfig } from './startup.error';

const rmq = probeRocketMq();
const SINGLE = 1;
const GROUP = 2;

/** One line of the sink's file: proto3 JSON of mqim.v1.Event (64-bit ids as strings). */
interface EventLine {
  eventId: string;
  type: string;
  atMs: string;
  actorUserId?: string;
  source: string;
  message?: { serverMsgId: string; fromUserId: string; sessionType: number; toSessionId: string };
  position?: { userId: string; sessionType: number; sessionId: string; msgId: string };
  group?: { groupId: string; kind: string; noticeMsgId: string; userIds?: string[] };
  presence?: { userId: string; gateId: string; connId: string; reason?: string };
}

function readLines(file: string): EventLine[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as EventLine);
}

const byType = (lines: EventLine[], type: string) => lines.filter((l) => l.type === `EVENT_TYPE_${type}`);

/**
 * The analytics contract end to end, as a data team meets it: the consumer group registered with
 * `mqim provision --consumer-group`, the example sink (`mqim events-sink`) as its own process, chat,
 * group, read and login traffic on two gates, and then the stream reconciled one to one with
 * MySQL: every stored row is a MESSAGE_STORED event and every event a row, every group notice a
 * group event, read and delivered marks equal the newest events, and redeliveries are dropped by
 * the documented key.
 */
describeInfra(
  'analytics - the event stream reconciles one to one with the store',
  [rmq, probeMysql(), probeRedis()],
  () => {
    let cluster: MqimCluster;
    let sink: MqimProcess | undefined;
    /** `mqim tap` as a process: per-interval counts of stored messages. */
    let tap: MqimProcess | undefined;
    let db: Connection;
    let dir: string;
    let out: string;
    const group = () => `${cluster.name}-dw`;
    const tapGroup = () => `${cluster.name}-tap`;
    /** The tap (`<prefix>-persisted`) as a second data team reads it: keys of the records seen. */
    const tapped: string[] = [];
    let tapBus: Awaited<ReturnType<typeof createBus>> | undefined;
    const clients: ImClient[] = [];
    const users = new Map<string, number>();

    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${cluster.api!.url}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${cluster.api!.key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };

    const login = async (url: string, name: string): Promise<ImClient> => {
      const c = createImClient({ url, requestTimeoutMs: 10_000 });
      clients.push(c);
      await c.loginWithPassword(name, 'secret');
      return c;
    };

    const startSink = () =>
      startMqim(['events-sink', '--group', group(), '--out', out, '--interval', '500ms'], {
        env: cluster.env,
        readyMessage: 'events sink ready',
        timeoutMs: 60_000,
      });

    const rows = async <T>(sqlText: string, params: unknown[] = []): Promise<T[]> =>
      (await db.query<RowDataPacket[]>(sqlText, params))[0] as T[];

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'mqim-analytics-'));
      out = join(dir, 'events.jsonl');
      cluster = await startCluster({
        name: 'analytics',
        gates: 2,
        logic: 1,
        jobs: 1,
        env: { MQIM_RECEIPT_FLUSH: '100ms' },
      });
      db = await createConnection({ uri: cluster.env.MQIM_MYSQL_URI! });
    }, 240_000);

    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await sink?.stop();
      await tap?.stop();
      await tapBus?.close();
      await db?.end();
      await cluster?.stop();
      rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it('provision - registers the consumer group in one step; the sink consumes with it', async () => {
      const run = await cluster.run([
        'provision',
        '--consumer-group',
        group(),
        '--consumer-group',
        tapGroup(),
      ]);
      expect(run.code).toBe(0);
      const done = run.logs.find((l) => l.msg === 'provisioned');
      expect(done?.consumerGroups).toEqual([group(), tapGroup()]);
      expect(done?.created).toEqual([]); // the cluster's topics existed: nothing recreated

      const bad = await cluster.run(['provision', '--consumer-group', 'no spaces']);
      expect(bad.code).toBe(78);
      expect(JSON.stringify(bad.logs)).toMatch(/may contain only letters, digits/);

      sink = await startSink();
      expect(sink.ready).toMatchObject({ group: group(), known: 0 });

      // The copyable tap example, with the interval its usage names.
      tap = await startMqim(['tap', '--group', `${cluster.name}-tapcmd`, '--interval', '1s'], {
        env: cluster.env,
        readyMessage: 'tap ready',
        timeoutMs: 60_000,
      });
      expect(tap.ready).toMatchObject({ intervalMs: 1000 });

      // The tap's consumer creates no group: the one provisioned above is enough.
      tapBus = await createBus(clusterConfig({ ...cluster.env }), pino({ level: 'silent' }));
      await tapBus.subscribe({ topic: new MqNames(cluster.name).persisted, group: tapGroup() }, async (m) => {
        for (const r of decodePersisted(m.body))
          tapped.push(
            messageEventId(
              r.sessionType ?? 0,
              Number(r.fromUserId),
              Number(r.toSessionId),
              Number(r.serverMsgId),
            ),
          );
      });
    }, 90_000);

    it('traffic on two gates is on the stream exactly as MySQL holds it', async () => {
      for (const name of ['ann', 'ben', 'cat', 'dan']) {
        const { userId } = await api<{ userId: number }>('POST', '/users', {
          userName: name,
          password: 'secret',
        });
        users.set(name, userId);
      }
      const [g1, g2] = cluster.gates;
      const ann = await login(g1!.tcp, 'ann');
      const ben = await login(g2!.ws, 'ben');
      const cat = await login(g1!.ws, 'cat');
      const dan = await login(g2!.tcp, 'dan');
      const id = (n: string) => users.get(n)!;

      // The subscription is live: the four logins arrive (a new group starts near the newest offset).
      await waitFor(() => byType(readLines(out), 'USER_ONLINE').length >= 4, {
        timeoutMs: 20_000,
        message: 'four USER_ONLINE events in the sink',
      });

      // Single chats. ann→cat and ben→cat both get server id 1: the trap of a key without the
      // conversation (issue 17 #2).
      const s1 = await ann.send({ to: id('cat'), text: 'hi cat' });
      const s2 = await ben.send({ to: id('cat'), text: 'hi cat, from ben' });
      expect([s1.serverMsgId, s2.serverMsgId]).toEqual([1, 1]);
      await cat.send({ to: id('ann'), text: 'hi ann' });
      for (let i = 0; i < 5; i++) await ann.send({ to: id('ben'), text: `ping ${i}` });
      await ben.send({ to: id('ann'), text: 'pong' });

      // Groups: create, talk, invite, remove, leave; a second one created and dissolved.
      const created = await ann.createGroup({ name: 'data', memberIds: [id('ben'), id('cat')] });
      const gid = created.group.groupId;
      await ann.send({ to: gid, sessionType: GROUP, text: 'welcome' });
      const last = await ben.send({ to: gid, sessionType: GROUP, text: 'thanks' });
      await ann.inviteMembers(gid, [id('dan')]);
      await ann.kickMembers(gid, [id('cat')]);
      await dan.exitGroup(gid);
      const temp = await ben.createGroup({ name: 'temp', memberIds: [id('ann')] });
      await ben.disbandGroup(temp.group.groupId);

      // Reads: single chats and the group.
      await cat.markRead(SINGLE, id('ann'), 0);
      await cat.markRead(SINGLE, id('ben'), 1);
      await ann.markRead(GROUP, gid, last.serverMsgId);
      await ben.markRead(SINGLE, id('ann'), 3);

      // Recalls, across the gates: ann (gate 1, TCP) takes back a ping to ben (gate 2, WS), who is
      // told; as the group's owner she takes back ben's group message; a second recall of the same
      // message changes nothing (one row, one event).
      const pings = await ann.history({ sessionType: SINGLE, sessionId: id('ben'), limit: 20 });
      const ping = pings.find((m) => m.text === 'ping 4')!;
      const told = new Promise<RecallNotice>((resolve) => ben.once('recalled', resolve));
      await ann.recall({ sessionType: SINGLE, sessionId: id('ben'), serverMsgId: ping.serverMsgId });
      expect(await told).toMatchObject({
        serverMsgId: ping.serverMsgId,
        recalledBy: id('ann'),
        sessionId: id('ann'),
      });
      await ann.recall({ sessionType: SINGLE, sessionId: id('ben'), serverMsgId: ping.serverMsgId });
      await ann.recall({ sessionType: GROUP, sessionId: gid, serverMsgId: last.serverMsgId });
      expect(
        (await ben.history({ sessionType: GROUP, sessionId: gid, limit: 20 })).find(
          (m) => m.serverMsgId === last.serverMsgId,
        ),
      ).toMatchObject({ recalled: true, data: new Uint8Array(0) });

      // Offline: a logout and a closed connection.
      await dan.logout();
      await cat.close();

      // --- reconcile ---
      const shards = (
        await rows<{ t: string }>(
          "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? AND table_name LIKE 'im\\_message\\_send\\_%'",
          [cluster.name],
        )
      ).map((r) => r.t);
      expect(shards.length).toBeGreaterThan(0);
      type SendRow = {
        server_msg_id: number;
        from_user_id: number;
        session_type: number;
        to_session_id: number;
        msg_type: number;
      };
      const sent: SendRow[] = [];
      for (const t of shards)
        sent.push(
          ...(await rows<SendRow>(
            `SELECT server_msg_id, from_user_id, session_type, to_session_id, msg_type FROM \`${t}\``,
          )),
        );
      const rowKeys = sent.map((r) =>
        messageEventId(
          r.session_type,
          Number(r.from_user_id),
          Number(r.to_session_id),
          Number(r.server_msg_id),
        ),
      );
      // 10 single + 2 group messages + 7 notices (2 creations, invite, kick, leave, dissolve... ).
      expect(new Set(rowKeys).size).toBe(rowKeys.length); // the key is unique per row
      const stored = () => byType(readLines(out), 'MESSAGE_STORED');
      await waitFor(() => stored().length >= rowKeys.length, {
        timeoutMs: 20_000,
        message: `${rowKeys.length} MESSAGE_STORED events (have ${stored().length})`,
      });

      // Every row an event, no event without a row, no duplicate in the sink.
      const storedIds = stored().map((e) => e.eventId);
      expect(new Set(storedIds).size).toBe(storedIds.length);
      expect([...storedIds].sort()).toEqual([...rowKeys].sort());
      for (const e of stored()) {
        const row = sent.find(
          (r) =>
            messageEventId(
              r.session_type,
              Number(r.from_user_id),
              Number(r.to_session_id),
              Number(r.server_msg_id),
            ) === e.eventId,
        )!;
        expect(e.message).toMatchObject({
          serverMsgId: String(row.server_msg_id),
          fromUserId: String(row.from_user_id),
          toSessionId: String(row.to_session_id),
        });
      }

      // The tap matches the same rows one to one (group notices included), duplicates dropped by the key.
      await waitFor(() => new Set(tapped).size >= rowKeys.length, {
        timeoutMs: 20_000,
        message: `${rowKeys.length} tap records (have ${new Set(tapped).size})`,
      });
      expect([...new Set(tapped)].sort()).toEqual([...rowKeys].sort());

      // `mqim tap` counted the same rows per conversation type, each once.
      const counted = () => {
        const sum = { single: 0, group: 0 };
        for (const l of tap!.logs)
          if (typeof l.single === 'number') {
            sum.single += l.single;
            sum.group += Number(l.group);
          }
        return sum;
      };
      const want = {
        single: sent.filter((r) => r.session_type === SINGLE).length,
        group: sent.filter((r) => r.session_type === GROUP).length,
      };
      await waitFor(() => counted().single + counted().group >= want.single + want.group, {
        timeoutMs: 15_000,
        message: 'mqim tap counted every row',
      });
      expect(counted()).toEqual(want);

      // Recalls: one MESSAGE_RECALLED per im_message_recall row, keyed by the recalled message, which
      // the event names (its row in im_message_send); each recall's TIPS notice is a row, and so a
      // MESSAGE_STORED event, above.
      const recalls = await rows<{
        session_type: number;
        peer_lo: number;
        peer_hi: number;
        server_msg_id: number;
      }>('SELECT session_type, peer_lo, peer_hi, server_msg_id FROM im_message_recall');
      expect(recalls).toHaveLength(2);
      const recalledEvents = () => byType(readLines(out), 'MESSAGE_RECALLED');
      await waitFor(() => recalledEvents().length >= recalls.length, {
        timeoutMs: 10_000,
        message: 'a MESSAGE_RECALLED event per recall',
      });
      expect(
        recalledEvents()
          .map((e) => e.eventId)
          .sort(),
      ).toEqual(
        recalls
          .map((r) =>
            r.session_type === GROUP
              ? `recall/g:${r.peer_lo}/${r.server_msg_id}`
              : `recall/s:${r.peer_lo}:${r.peer_hi}/${r.server_msg_id}`,
          )
          .sort(),
      );
      for (const e of recalledEvents())
        expect(rowKeys).toContain(
          messageEventId(
            e.message!.sessionType,
            Number(e.message!.fromUserId),
            Number(e.message!.toSessionId),
            Number(e.message!.serverMsgId),
          ),
        );
      expect(sent.filter((r) => r.msg_type === 8)).toHaveLength(recalls.length);

      // Group changes: one per stored notice, keyed by it; creations and dissolutions match im_group.
      // A notice: msg_type NOTIFICATION (9) from the group itself (user and group ids may coincide).
      const notices = sent.filter(
        (r) =>
          r.session_type === GROUP && r.msg_type === 9 && Number(r.from_user_id) === Number(r.to_session_id),
      );
      const groupEvents = () => readLines(out).filter((l) => l.group);
      await waitFor(() => groupEvents().length >= notices.length, {
        timeoutMs: 10_000,
        message: 'a group event per notice',
      });
      expect(
        groupEvents()
          .map((e) => e.eventId)
          .sort(),
      ).toEqual(notices.map((n) => `grp/${n.to_session_id}/${n.server_msg_id}`).sort());
      const groups = await rows<{ group_id: number; status: number }>(
        'SELECT group_id, status FROM im_group',
      );
      expect(
        byType(readLines(out), 'GROUP_CREATED')
          .map((e) => Number(e.group!.groupId))
          .sort(),
      ).toEqual(groups.map((g) => Number(g.group_id)).sort());
      expect(byType(readLines(out), 'GROUP_DISSOLVED').map((e) => Number(e.group!.groupId))).toEqual(
        groups.filter((g) => g.status === 2).map((g) => Number(g.group_id)),
      );
      expect(
        byType(readLines(out), 'GROUP_CHANGED')
          .map((e) => e.group!.kind)
          .sort(),
      ).toEqual([
        'GROUP_CHANGE_KIND_MEMBERS_ADDED',
        'GROUP_CHANGE_KIND_MEMBERS_REMOVED',
        'GROUP_CHANGE_KIND_MEMBER_LEFT',
      ]);

      // Read marks: the newest READ event of each (user, conversation) is im_session.read_up_to.
      // Read acks have no answer, so the four READ events say when they are all handled.
      const newest = (type: string) => {
        const m = new Map<string, number>();
        for (const e of byType(readLines(out), type)) {
          const p = e.position!;
          const k = `${p.userId}/${p.sessionType}/${p.sessionId}`;
          m.set(k, Math.max(m.get(k) ?? 0, Number(p.msgId)));
        }
        return m;
      };
      await waitFor(() => newest('READ').size >= 4, {
        timeoutMs: 10_000,
        message: 'READ events of 4 conversations',
      });
      const sessions = await rows<{
        owner_user_id: number;
        session_type: number;
        session_id: number;
        read_up_to: number;
      }>('SELECT owner_user_id, session_type, session_id, read_up_to FROM im_session WHERE read_up_to > 0');
      expect(newest('READ')).toEqual(
        new Map(
          sessions.map((s) => [`${s.owner_user_id}/${s.session_type}/${s.session_id}`, Number(s.read_up_to)]),
        ),
      );
      // cat read everything of ann (1 message), ben's message 1; ann the group up to ben's
      // message; ben asked for 3 and got it.
      expect(newest('READ').get(`${id('cat')}/1/${id('ann')}`)).toBe(2);
      expect(newest('READ').get(`${id('ann')}/2/${gid}`)).toBe(last.serverMsgId);

      // Delivered marks: the newest DELIVERED event of each key is im_ack_time.delivered_msg_id.
      const delivered = async () =>
        new Map(
          (
            await rows<{
              owner_user_id: number;
              session_type: number;
              session_id: number;
              delivered_msg_id: number;
            }>(
              'SELECT owner_user_id, session_type, session_id, delivered_msg_id FROM im_ack_time WHERE delivered_msg_id > 0',
            )
          ).map((r) => [`${r.owner_user_id}/${r.session_type}/${r.session_id}`, Number(r.delivered_msg_id)]),
        );
      await waitFor(
        async () => {
          const want = await delivered();
          const have = newest('DELIVERED');
          return want.size > 0 && [...want].every(([k, v]) => have.get(k) === v) && have.size === want.size;
        },
        { timeoutMs: 15_000, message: 'DELIVERED events equal im_ack_time' },
      );

      // Presence: four logins; dan's logout and cat's close are OFFLINE with their reasons.
      await waitFor(() => byType(readLines(out), 'USER_OFFLINE').length >= 2, {
        timeoutMs: 10_000,
        message: 'two USER_OFFLINE events',
      });
      const online = byType(readLines(out), 'USER_ONLINE');
      expect(online.map((e) => Number(e.presence!.userId)).sort((a, b) => a - b)).toEqual(
        ['ann', 'ben', 'cat', 'dan'].map(id).sort((a, b) => a - b),
      );
      expect(new Set(online.map((e) => e.presence!.gateId))).toEqual(new Set([g1!.id, g2!.id]));
      const offline = byType(readLines(out), 'USER_OFFLINE');
      expect(offline.find((e) => Number(e.presence!.userId) === id('dan'))?.presence?.reason).toBe('logout');
      expect(offline.find((e) => Number(e.presence!.userId) === id('cat'))).toBeDefined();
    }, 180_000);

    it('status - mqim status --consumer-group reports the sink group caught up on the events topic', async () => {
      const run = await cluster.run(['status', '--json', '--consumer-group', group()]);
      // --json prints one JSON line: the api's shape.
      const status = run.logs.find((l) => 'consumers' in l) as unknown as {
        consumers: {
          source: string;
          groups: { group: string; topic: string; lag: number; lastConsumedAt: number }[];
        };
      };
      expect(status.consumers.source).toBe('broker');
      const events = status.consumers.groups.find(
        (g) => g.group === group() && g.topic === `${cluster.name}-events`,
      );
      expect(events).toBeDefined();
      expect(events!.lag).toBe(0);
      expect(events!.lastConsumedAt).toBeGreaterThan(0);
      expect(
        status.consumers.groups.some((g) => g.group === group() && g.topic === `${cluster.name}-persisted`),
      ).toBe(true);
    }, 60_000);

    it('duplicates - a redelivered batch and a restarted sink add nothing to the file', async () => {
      const before = readLines(out);
      expect(before.length).toBeGreaterThan(0);
      // A batch published again, as a broker redelivery or a logic retry would: same event ids.
      const bus = await createBus(clusterConfig({ ...cluster.env }), pino({ level: 'silent' }));
      const again = before.slice(0, 3).map((l) => mqim.v1.Event.fromObject(l));
      try {
        await bus.publish({
          topic: new MqNames(cluster.name).events,
          tag: 'message',
          body: mqim.v1.EventBatch.encode({ events: again }).finish(),
        });
      } finally {
        await bus.close();
      }
      await waitFor(
        () => sink!.logs.some((l) => typeof l.duplicates === 'number' && (l.duplicates as number) >= 3),
        { timeoutMs: 15_000, message: 'the sink counted the 3 duplicates' },
      );
      expect(readLines(out)).toEqual(before);

      // A restart reads the ids already written: nothing is written twice after a crash either.
      await sink!.kill();
      sink = await startSink();
      expect(sink.ready).toMatchObject({ known: before.length });
    }, 90_000);

    it('sync - a user offline while others write catches up after reconnecting on the other gate, each message once', async () => {
      const id = (n: string) => users.get(n)!;
      const [g1, g2] = cluster.gates;
      // dan was on gate 2 (TCP) and logged out; a cursor from then: everything dan had.
      const before = await login(g2!.ws, 'dan');
      let cursor: SyncCursor = { positions: [] };
      for (;;) {
        const page = await before.sync(cursor);
        cursor = page.cursor;
        if (!page.hasMore) break;
      }
      await before.close();

      // While dan is away: ann writes from gate 1 (TCP), ben from gate 2 (WS), in a chat and the group.
      const ann = await login(g1!.tcp, 'ann');
      const ben = await login(g2!.ws, 'ben');
      const { group } = await ann.createGroup({ name: 'while away', memberIds: [id('dan'), id('ben')] });
      const want: string[] = [];
      for (let i = 0; i < 6; i++) {
        await ann.send({ to: id('dan'), text: `a${i}` });
        want.push(`a${i}`);
        await ben.send({ to: group.groupId, sessionType: GROUP, text: `b${i}` });
        want.push(`b${i}`);
      }

      // Back on gate 1 over WS: a few small pages, each message exactly once.
      const dan = await login(g1!.ws, 'dan');
      const got: string[] = [];
      const seen = new Set<string>();
      let rounds = 0;
      for (;;) {
        const page = await dan.sync(cursor, { maxConversations: 2, maxMessages: 4 });
        rounds++;
        for (const c of page.conversations)
          for (const m of c.messages) {
            const key = `${c.sessionType}:${c.sessionId}:${m.serverMsgId}`;
            expect(seen.has(key)).toBe(false);
            seen.add(key);
            if (m.text) got.push(m.text);
          }
        cursor = page.cursor;
        if (!page.hasMore) break;
      }
      expect([...got].sort()).toEqual([...want].sort());
      expect(got.filter((t) => t.startsWith('a'))).toEqual(want.filter((t) => t.startsWith('a')));
      expect(got.filter((t) => t.startsWith('b'))).toEqual(want.filter((t) => t.startsWith('b')));
      expect(rounds).toBeGreaterThan(1);
      expect((await dan.sync(cursor)).conversations).toEqual([]);
    }, 90_000);
  },
);
