import { createHash, randomBytes } from 'node:crypto';

export interface BenchUser {
  userId: number;
  userName: string;
  pwdMd5: string;
}

const PASSWORD = 'bench-password';
export const BENCH_PASSWORD_MD5 = createHash('md5').update(PASSWORD).digest('hex');

/**
 * Registers `count` users through `POST /api/v1/users` (it returns the user id, which
 * CoffeeChat's /user/register does not), `concurrency` requests in flight over keep-alive
 * connections. Names carry a random run prefix, so reruns against a long-lived cluster never
 * collide.
 */
export async function registerUsers(
  api: { url: string; key: string },
  count: number,
  options: { concurrency?: number; onProgress?: (done: number) => void } = {},
): Promise<BenchUser[]> {
  const run = randomBytes(3).toString('hex');
  const users: BenchUser[] = new Array<BenchUser>(count);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const userName = `b${run}_${i}`;
      const res = await fetch(`${api.url}/api/v1/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${api.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ userName, password: PASSWORD }),
      });
      if (res.status !== 201) throw new Error(`register ${userName}: HTTP ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { userId: number };
      users[i] = { userId: body.userId, userName, pwdMd5: BENCH_PASSWORD_MD5 };
      options.onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 32 }, worker));
  return users;
}
