import { createConnection, type Connection } from 'mysql2/promise';
import { createImClient, type ImClient, type ImMessage } from '@mqim/sdk';
import {
  describeInfra,
  probeMysql,
  probeRedis,
  startCluster,
  startMqim,
  startOwnRocketMq,
  waitFor,
  type MqimCluster,
  type MqimProcess,
  type OwnRocketMq,
} from '@mqim/testing';

/**
 * Scheduled messages across a restart of the broker that holds their timers (issue 13 item 5,
 * ADR 0016): the cluster runs on a RocketMQ of its own (never the shared one), which is stopped
 * or killed while a message's timer is pending and started again after the message was due. The
 * message must reach its recipient exactly once after the broker is back, sent by the timer the
 * broker kept (the store's re-firing of late messages is held back here).
 */
describeInfra('scheduled messages (cluster) - across a broker restart', [probeMysql(), probeRedis()], () => {
  let rmq: OwnRocketMq;
  let cluster: MqimCluster;
  let api2: MqimProcess | undefined;
  let db: Connection;
  const clients: ImClient[] = [];

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${cluster.api!.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${cluster.api!.key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const user = async (userName: string): Promise<number> => {
    const r = await api('POST', '/users', { userName, password: 'secret' });
    expect(r.status).toBe(201);
    return r.body.userId as number;
  };
  const login = async (userName: string) => {
    // The gate's TCP connection does not depend on the broker: it stays up through the restart.
    const c = createImClient({ url: cluster.gates[0]!.tcp, requestTimeoutMs: 15_000, reconnect: false });
    clients.push(c);
    const box: ImMessage[] = [];
    c.on('message', (m) => box.push(m));
    await c.loginWithPassword(userName, 'secret');
    return { c, box };
  };
  const row = async (id: number) => {
    const [rows] = await db.query(
      'SELECT status, armed_version, server_msg_id FROM im_scheduled_message WHERE schedule_id = ?',
      [id],
    );
    return (rows as Array<{ status: number; armed_version: number; server_msg_id: number }>)[0]!;
  };
  /**
   * Schedules a message 6 s out, waits until its broker timer is published, takes the broker
   * down with `down`, brings it back once the message is overdue, and checks it arrived once.
   */
  const acrossRestart = async (tag: string, down: () => Promise<void>) => {
    const fromId = await user(`${tag}-from`);
    const toId = await user(`${tag}-to`);
    const to = await login(`${tag}-to`);
    const sendAt = Date.now() + 6_000;
    const text = `scheduled before the broker went down (${tag})`;
    const created = await api('POST', '/scheduled-messages', {
      from: fromId,
      sessionType: 1,
      to: toId,
      text,
      sendAt,
    });
    expect(created.status).toBe(201);
    const id = created.body.scheduleId as number;
    await waitFor(async () => (await row(id)).armed_version === 1, {
      timeoutMs: 10_000,
      message: 'the message is on a broker timer',
    });
    await down();
    // Down through the send time: nobody can have sent it.
    await waitFor(() => Date.now() > sendAt + 2_000, { timeoutMs: 60_000, intervalMs: 200 });
    expect((await row(id)).status).toBe(0);
    expect(to.box).toHaveLength(0);
    await rmq.start();
    await waitFor(() => to.box.some((m) => m.text === text), {
      timeoutMs: 90_000,
      message: 'the scheduled message arrived after the broker came back',
    });
    await waitFor(async () => (await row(id)).status === 2, { timeoutMs: 10_000, message: 'status sent' });
    // A later message of the same sender, through the same conversation lane: any second copy
    // of the scheduled one would have been delivered before it.
    const after = await api('POST', '/messages', { from: fromId, sessionType: 1, to: toId, text: 'after' });
    expect(after.status).toBe(201);
    await waitFor(() => to.box.some((m) => m.text === 'after'), {
      timeoutMs: 30_000,
      message: 'the later message',
    });
    expect(to.box.map((m) => m.text)).toEqual([text, 'after']);
    const history = await to.c.history({ sessionType: 1, sessionId: fromId, limit: 10 });
    expect(history.map((m) => m.text)).toEqual([text, 'after']);
    expect(history[0]!.serverMsgId).toBe(Number((await row(id)).server_msg_id));
    return id;
  };
  /** The api's log lines about re-firing message `id` from the store. */
  const refired = (proc: MqimProcess, id: number) =>
    proc.logs.filter((l) => l.scheduleId === id && String(l.msg).includes('scheduled message late'));

  beforeAll(async () => {
    rmq = await startOwnRocketMq();
    cluster = await startCluster({
      name: 'sched_rmq_restart',
      gates: 1,
      logic: 1,
      jobs: 1,
      env: {
        MQIM_RMQ_ENDPOINTS: rmq.proxyEndpoints,
        MQIM_RMQ_NAMESRV: rmq.nameServer,
        MQIM_SCHEDULE_SCAN: '500',
        // The store's safety net (a message this late is re-fired from the store; its own spec:
        // message.scheduler.spec) is held back: within this test only the broker's timer, if it
        // survived the restart, can send the messages.
        MQIM_SCHEDULE_GRACE: '600000',
      },
      timeoutMs: 120_000,
    });
    db = await createConnection({ uri: cluster.env.MQIM_MYSQL_URI! });
  }, 400_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await db?.end();
    await api2?.stop();
    await cluster?.stop();
    await rmq?.dispose();
  }, 120_000);

  it('clean broker restart while a timer is pending - the message is sent once after the broker is back', async () => {
    const id = await acrossRestart('sch-stop', () => rmq.stop());
    // Not re-fired from the store (this api's MQIM_SCHEDULE_GRACE is longer than the test): the
    // broker's own timer, kept across the restart, sent it.
    expect(refired(cluster.api!.proc, id)).toEqual([]);
  }, 300_000);

  // A broker that crashed may lose a pending timer (it did in every run here) or fire it twice
  // (its timer checkpoint may be 30 s old, docs/rocketmq.md). The store's re-firing covers the
  // first, the outbox key the second: a second api process with a short MQIM_SCHEDULE_GRACE
  // shares the schedule work, as any api process does.
  it('broker killed (kill -9) while a timer is pending - the message is sent once after the broker is back', async () => {
    api2 = await startMqim(['api'], {
      env: { ...cluster.env, MQIM_SCHEDULE_GRACE: '8000' },
      timeoutMs: 120_000,
    });
    await acrossRestart('sch-kill', () => rmq.kill());
  }, 300_000);
});
