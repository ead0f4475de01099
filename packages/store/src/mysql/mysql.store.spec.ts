import { createServer } from 'node:net';
import { createMysqlStore, StoreUnavailableError } from '../index';
import { mapMysqlError } from './mysql-errors';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('MysqlStore (no server)', () => {
  it('errors - connection-level failures map to StoreUnavailableError, others pass through', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const lost = Object.assign(new Error('Connection lost'), {
      code: 'PROTOCOL_CONNECTION_LOST',
      fatal: true,
    });
    const dup = Object.assign(new Error('Duplicate entry'), { code: 'ER_DUP_ENTRY', errno: 1062 });
    const denied = Object.assign(new Error('Access denied'), { code: 'ER_ACCESS_DENIED_ERROR', fatal: true });
    expect(mapMysqlError(refused)).toBeInstanceOf(StoreUnavailableError);
    expect(mapMysqlError(lost)).toBeInstanceOf(StoreUnavailableError);
    expect(mapMysqlError(new Error('Pool is closed.'))).toBeInstanceOf(StoreUnavailableError);
    expect(mapMysqlError(dup)).toBe(dup);
    expect(mapMysqlError(denied)).toBe(denied);
    expect((mapMysqlError(refused) as StoreUnavailableError).cause).toBe(refused);
  });

  it('create - an unreachable server rejects with StoreUnavailableError', async () => {
    const port = await closedPort();
    const err = await createMysqlStore({
      uri: `mysql://root@127.0.0.1:${port}/nothing`,
      connectTimeoutMs: 2000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as StoreUnavailableError).code).toBe('IM_ERR_STORE_UNAVAILABLE');
  });
});
