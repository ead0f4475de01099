import { RocketMqAdmin } from '@mqim/bus';
import { MqNames } from '@mqim/protocol';
import {
  describeInfra,
  freePort,
  probeMysql,
  probeRedis,
  probeRocketMq,
  runMqim,
  uniqueName,
  type MqimRun,
} from '@mqim/testing';
import { createConnection } from 'mysql2/promise';

const rmq = probeRocketMq();
const mysql = probeMysql();
const redis = probeRedis();

/** A role that cannot work must say so and exit quickly; tsx start-up alone takes 2–4 s here. */
const FAIL_FAST_MS = 20_000;

function databaseUri(database: string): string {
  const url = new URL(mysql.uri);
  url.pathname = `/${database}`;
  return url.toString();
}

async function sql<T>(query: string, params: unknown[] = []): Promise<T> {
  const url = new URL(mysql.uri);
  url.pathname = '/';
  const conn = await createConnection({ uri: url.toString() });
  try {
    const [rows] = await conn.query(query, params);
    return rows as T;
  } finally {
    await conn.end();
  }
}

/** The fatal line a refused start logs: which dependency, what is wrong, how to fix it. */
function fatal(run: MqimRun): { dependency: string; problem: string; fix: string; msg: string } {
  const line = run.logs.find((l) => l.level === 60);
  if (!line)
    throw new Error(`no fatal log line; logs:\n${run.logs.map((l) => JSON.stringify(l)).join('\n')}`);
  return line as { dependency: string; problem: string; fix: string; msg: string };
}

describeInfra('cli - migrate, provision and fail-fast role start-up', [rmq, mysql, redis], () => {
  const name = uniqueName('startup');
  const env: Record<string, string> = {
    MQIM_TOPIC_PREFIX: name,
    MQIM_REDIS_PREFIX: `${name}:`,
    MQIM_MYSQL_URI: databaseUri(name),
    MQIM_REDIS_URL: redis.url,
    MQIM_RMQ_ENDPOINTS: rmq.proxyEndpoints,
    MQIM_RMQ_NAMESRV: rmq.nameServer,
    MQIM_API_KEY: 'startup-checks-key',
    MQIM_GATE_HOST: '127.0.0.1',
    MQIM_API_HOST: '127.0.0.1',
    MQIM_GATE_TCP_PORT: '0',
    MQIM_GATE_WS_PORT: '0',
    MQIM_API_PORT: '0',
    MQIM_HTTP_PORT: '0',
  };
  const mqim = (args: string[], extra: Record<string, string> = {}) =>
    runMqim(args, { env: { ...env, ...extra }, timeoutMs: 60_000 });

  afterAll(async () => {
    await sql(`DROP DATABASE IF EXISTS \`${name}\``);
  });

  it('migrate - creates the missing database, applies the schema, and is a no-op the second time', async () => {
    const first = await mqim(['migrate']);
    expect(first.code).toBe(0);
    expect(first.logs.find((l) => l.msg === 'migrated')).toMatchObject({ databaseCreated: true });
    const charset = await sql<{ c: string }[]>(
      'SELECT default_character_set_name AS c FROM information_schema.schemata WHERE schema_name = ?',
      [name],
    );
    expect(charset).toEqual([{ c: 'utf8mb4' }]);
    const tables = await sql<{ t: string }[]>(
      'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ?',
      [name],
    );
    expect(tables.map((r) => r.t)).toEqual(
      expect.arrayContaining(['im_user', 'im_message_send_0', 'im_message_recv_3']),
    );

    const again = await mqim(['migrate']);
    expect(again.code).toBe(0);
    expect(again.logs.find((l) => l.msg === 'migrated')).toMatchObject({ databaseCreated: false });
  });

  it('provision - creates every topic with its type on the broker; a second run changes nothing', async () => {
    const names = new MqNames(name);
    const [a, b] = await Promise.all([mqim(['provision']), mqim(['provision'])]);
    // Two operators (or two compose restarts) provisioning at once both succeed.
    expect([a.code, b.code]).toEqual([0, 0]);
    const again = await mqim(['provision']);
    expect(again.code).toBe(0);
    expect(again.logs.find((l) => l.msg === 'provisioned')).toMatchObject({
      created: [],
      existing: names.sharedTopics().map((t) => t.name),
    });

    const admin = new RocketMqAdmin({ namesrv: rmq.nameServer });
    try {
      const [broker] = await admin.masterBrokers();
      for (const topic of names.sharedTopics()) {
        const config = await admin.topicConfig(broker!, topic.name);
        expect({ topic: topic.name, type: config?.attributes?.['message.type'] }).toEqual({
          topic: topic.name,
          type: topic.kind.toUpperCase(),
        });
      }
      for (const group of names.sharedGroups()) {
        const config = await admin.groupConfig(broker!, group.name);
        expect({ group: group.name, orderly: config?.consumeMessageOrderly }).toEqual({
          group: group.name,
          orderly: group.orderly,
        });
      }
    } finally {
      admin.close();
    }
  });

  it('start-up - a gate with an unreachable Redis exits at once naming Redis and MQIM_REDIS_URL', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const run = await mqim(['gate'], { MQIM_REDIS_URL: url });
    expect(run.code).toBe(69);
    expect(run.ms).toBeLessThan(FAIL_FAST_MS);
    const line = fatal(run);
    expect(line.dependency).toBe('Redis');
    expect(line.problem).toContain(`MQIM_REDIS_URL=${url}`);
    expect(line.problem).toContain('ECONNREFUSED');
    expect(run.logs.some((l) => l.msg === 'role ready')).toBe(false);
  });

  it('start-up - a logic with an unreachable MySQL exits at once naming MySQL and MQIM_MYSQL_URI', async () => {
    const uri = `mysql://root@127.0.0.1:${await freePort()}/${name}`;
    const run = await mqim(['logic'], { MQIM_MYSQL_URI: uri });
    expect(run.code).toBe(69);
    expect(run.ms).toBeLessThan(FAIL_FAST_MS);
    const line = fatal(run);
    expect(line.dependency).toBe('MySQL');
    expect(line.problem).toContain(uri);
    expect(line.fix).toContain('MQIM_MYSQL_URI');
  });

  it('start-up - a job on a database that was never migrated is told to run `mqim migrate`', async () => {
    const run = await mqim(['job'], { MQIM_MYSQL_URI: databaseUri(`${name}_missing`) });
    expect(run.code).toBe(78);
    const line = fatal(run);
    expect(line.problem).toContain(`database "${name}_missing" does not exist`);
    expect(line.fix).toContain('mqim migrate');
  });

  it('start-up - roles on an un-provisioned topic prefix exit and are told to run `mqim provision`', async () => {
    const prefix = uniqueName('unprovisioned');
    const [gate, logic] = await Promise.all([
      mqim(['gate'], { MQIM_TOPIC_PREFIX: prefix }),
      mqim(['logic'], { MQIM_TOPIC_PREFIX: prefix }),
    ]);
    for (const run of [gate, logic]) {
      expect(run.code).toBe(78);
      expect(run.ms).toBeLessThan(FAIL_FAST_MS);
      const line = fatal(run);
      expect(line.dependency).toBe('RocketMQ topics');
      expect(line.problem).toContain(`${prefix}-upstream is missing`);
      expect(line.fix).toContain(`mqim provision\` with the same MQIM_TOPIC_PREFIX=${prefix}`);
    }
  });

  it('start-up - a gate whose RocketMQ proxy is down exits at once naming MQIM_RMQ_ENDPOINTS', async () => {
    const endpoint = `127.0.0.1:${await freePort()}`;
    const run = await mqim(['gate'], { MQIM_RMQ_ENDPOINTS: endpoint });
    expect(run.code).toBe(69);
    expect(run.ms).toBeLessThan(FAIL_FAST_MS);
    expect(fatal(run)).toMatchObject({ dependency: 'RocketMQ gRPC proxy' });
    expect(fatal(run).problem).toContain(`MQIM_RMQ_ENDPOINTS=${endpoint}`);
  });
});
