import { createImClient } from '../index';
import type { ImClient, ImClientEventName, ImClientEvents, ImClientOptions } from '../im.client';
import { FakeImServer, type FakeImServerOptions } from './fake-im.server';
import type { FakeUser } from './fake.store';

export const ALICE: FakeUser = {
  userId: 1,
  userName: 'alice',
  password: 'secret-a',
  token: 'tok-a',
  nickName: 'Alice',
};
export const BOB: FakeUser = {
  userId: 2,
  userName: 'bob',
  password: 'secret-b',
  token: 'tok-b',
  nickName: 'Bob',
};
export const CAROL: FakeUser = {
  userId: 3,
  userName: 'carol',
  password: 'secret-c',
  token: 'tok-c',
  nickName: 'Carol',
};

/** A fake server plus the clients a test opens on it; `close()` tears all of it down. */
export interface ClientHarness {
  server: FakeImServer;
  client(options?: Partial<ImClientOptions>): ImClient;
  /** A client logged in with the user's token. */
  login(user: FakeUser, options?: Partial<ImClientOptions>): Promise<ImClient>;
  close(): Promise<void>;
}

export async function startHarness(options: FakeImServerOptions = {}): Promise<ClientHarness> {
  const server = await FakeImServer.start({ users: [ALICE, BOB, CAROL], ...options });
  const clients: ImClient[] = [];
  const client = (opts: Partial<ImClientOptions> = {}): ImClient => {
    // Short deadlines keep failing tests fast; heartbeats off unless a test wants them.
    const c = createImClient({ url: server.url, requestTimeoutMs: 2000, heartbeatMs: 0, ...opts });
    clients.push(c);
    return c;
  };
  return {
    server,
    client,
    async login(user, opts) {
      const c = client(opts);
      await c.loginWithToken(user.userId, user.token!);
      return c;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await server.close();
    },
  };
}

/** The next `event` from `client`, or a rejection after `timeoutMs`. */
export function nextEvent<E extends ImClientEventName>(
  client: ImClient,
  event: E,
  timeoutMs = 2000,
): Promise<ImClientEvents[E][0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(event, listener);
      reject(new Error(`no '${event}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = ((...args: ImClientEvents[E]) => {
      clearTimeout(timer);
      client.off(event, listener);
      resolve(args[0]);
    }) as (...args: ImClientEvents[E]) => void;
    client.on(event, listener);
  });
}

/** Resolves once `predicate` holds, polling every 10 ms. */
export async function until(predicate: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
