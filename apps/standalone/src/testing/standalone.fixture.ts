import { Writable } from 'node:stream';
import type { Standalone } from '@mqim/composition';
import { passwordMd5 } from '@mqim/sdk';
import { probeMysql, uniqueName } from '@mqim/testing';
import { createConnection } from 'mysql2/promise';

/** The env of a standalone under test: its own data dir, loopback only, OS-picked ports. */
export function loopbackEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    MQIM_DATA_DIR: dir,
    MQIM_GATE_HOST: '127.0.0.1',
    MQIM_API_HOST: '127.0.0.1',
    MQIM_GATE_TCP_PORT: '0',
    MQIM_GATE_WS_PORT: '0',
    MQIM_API_PORT: '0',
    ...extra,
  };
}

/** A pino destination that keeps every JSON log line in `logs`, for tests of logged reasons. */
export function jsonLogSink(logs: Record<string, unknown>[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n'))
        if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
}

/** Registers users (password "pw") through the legacy endpoint; their ids by name. */
export async function registerUsers(server: Standalone, names: string[]): Promise<Record<string, number>> {
  const ids: Record<string, number> = {};
  for (const name of names) {
    const res = await server.api.inject({
      method: 'POST',
      url: '/user/register',
      payload: { userName: name, userNickName: name, userPwd: passwordMd5('pw') },
    });
    if (JSON.parse(res.body).error_code !== 200) throw new Error(`registering ${name}: ${res.body}`);
    ids[name] = (await server.store.users.findByName(name))!.userId;
  }
  return ids;
}

/** The adapters a run uses, as environment: embedded, or the real engines. */
export type Adapters = () => Promise<Record<string, string>>;

export const embeddedAdapters: Adapters = async () => ({});

/**
 * The real engines with names no other run shares: each call creates its own MariaDB database and
 * takes Redis and topic prefixes named after it. Call the returned `drop` in an `afterAll`.
 */
export function realAdapters(prefix: string): { real: Adapters; drop: () => Promise<void> } {
  const mysqlBase = probeMysql().uri.replace(/\/$/, '');
  const databases: string[] = [];
  const real: Adapters = async () => {
    const name = uniqueName(prefix);
    const conn = await createConnection({ uri: mysqlBase });
    await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
    await conn.end();
    databases.push(name);
    return {
      MQIM_BUS: 'rocketmq',
      MQIM_STORE: 'mysql',
      MQIM_CACHE: 'redis',
      MQIM_MYSQL_URI: `${mysqlBase}/${name}`,
      MQIM_REDIS_PREFIX: `${name}:`,
      MQIM_TOPIC_PREFIX: name.replace(/_/g, '-'),
    };
  };
  const drop = async () => {
    if (!databases.length) return;
    const conn = await createConnection({ uri: mysqlBase });
    for (const db of databases.splice(0)) await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await conn.end();
  };
  return { real, drop };
}
