import { Writable } from 'node:stream';
import { passwordMd5 } from '@mqim/sdk';
import type { Standalone } from '../standalone';

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
