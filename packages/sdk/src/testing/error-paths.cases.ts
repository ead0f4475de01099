import { CimErrorCode, CommandId, ImErrorNumber } from '@mqim/protocol';
import type { ImClient } from '../im.client';
import { SessionType } from '../im.types';

/**
 * What the error-path cases need of a server: three users (`a` and `b` in `group`, `c` not; `a`
 * and `b` contacts of each other, `b` and `c` not) and ids that name nobody. The fake (FakeImServer) and the real standalone each provide one, and the
 * same cases run on both, so the fake cannot drift from the real server's error codes.
 */
export interface ErrorPathWorld {
  /** A client logged in as the user. */
  login(user: 'a' | 'b' | 'c'): Promise<ImClient>;
  /** A fresh client's password login of user `c` with a wrong password. */
  wrongPassword(): Promise<unknown>;
  ids: { a: number; b: number; c: number; group: number; missingUser: number; missingGroup: number };
  /** The server's limit on msg_data. */
  maxMsgDataBytes: number;
}

type Code = keyof typeof ImErrorNumber;

/** How the SDK reports a refused send: IM_ERR_SEND_REFUSED with the server's notice as detail. */
const refusedSend = (errorName: Code, text?: string | RegExp) => ({
  code: 'IM_ERR_SEND_REFUSED',
  resCode: 0,
  detail: {
    errorCode: ImErrorNumber[errorName],
    errorName,
    requestCmd: CommandId.MSG_DATA,
    ...(text === undefined ? {} : { text: typeof text === 'string' ? text : expect.stringMatching(text) }),
  },
});

const rejection = (p: Promise<unknown>) =>
  p.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (err: unknown) => err,
  );

/** `[name, case]`: each case drives the SDK into one error path and asserts the server's answer. */
export const errorPathCases: [string, (w: ErrorPathWorld) => Promise<void>][] = [
  [
    'send to oneself - IM_ERR_INVALID_ARGUMENT',
    async (w) => {
      const a = await w.login('a');
      expect(await rejection(a.send({ to: w.ids.a, text: 'me' }))).toMatchObject(
        refusedSend('IM_ERR_INVALID_ARGUMENT', 'cannot send a message to oneself'),
      );
    },
  ],
  [
    'send to a user who does not exist - IM_ERR_NOT_FOUND',
    async (w) => {
      const a = await w.login('a');
      expect(await rejection(a.send({ to: w.ids.missingUser, text: 'hello?' }))).toMatchObject(
        refusedSend('IM_ERR_NOT_FOUND', `user ${w.ids.missingUser} does not exist`),
      );
    },
  ],
  [
    'send to a group that does not exist - IM_ERR_NOT_FOUND',
    async (w) => {
      const a = await w.login('a');
      const send = a.send({ to: w.ids.missingGroup, sessionType: SessionType.GROUP, text: 'hello?' });
      expect(await rejection(send)).toMatchObject(
        refusedSend('IM_ERR_NOT_FOUND', `group ${w.ids.missingGroup} does not exist`),
      );
    },
  ],
  [
    'send to a group one is not in - IM_ERR_FORBIDDEN',
    async (w) => {
      const c = await w.login('c');
      const send = c.send({ to: w.ids.group, sessionType: SessionType.GROUP, text: 'let me in' });
      expect(await rejection(send)).toMatchObject(
        refusedSend('IM_ERR_FORBIDDEN', 'only members may send to a group'),
      );
    },
  ],
  [
    'send over the msg_data limit - IM_ERR_INVALID_ARGUMENT, and the connection stays usable',
    async (w) => {
      const a = await w.login('a');
      const big = new Uint8Array(w.maxMsgDataBytes + 1).fill(0x61);
      expect(await rejection(a.send({ to: w.ids.b, data: big }))).toMatchObject(
        refusedSend('IM_ERR_INVALID_ARGUMENT', /limit is/),
      );
      expect((await a.send({ to: w.ids.b, text: 'small' })).serverMsgId).toBeGreaterThan(0);
    },
  ],
  [
    'login with a wrong password - IM_ERR_LOGIN_FAILED with result code 2003',
    async (w) => {
      expect(await rejection(w.wrongPassword())).toMatchObject({
        code: 'IM_ERR_LOGIN_FAILED',
        resultCode: CimErrorCode.LOGIN_INVALID_USER_OR_PWD,
      });
    },
  ],
  [
    'members of a group one is not in - an empty list (strangers learn nothing)',
    async (w) => {
      const c = await w.login('c');
      expect(await c.groupMembers(w.ids.group)).toEqual([]);
      const a = await w.login('a');
      expect((await a.groupMembers(w.ids.group)).sort()).toEqual([w.ids.a, w.ids.b].sort());
    },
  ],
];

/**
 * Calls the SDK's suite once tested only against the fake (issue 15 #7): logout (0x0103), the
 * latest id (0x0305), messages by id (0x0307) and the user list (0x0601). Same world, same rule:
 * they run on the fake and on the real standalone.
 */
export const parityCases: [string, (w: ErrorPathWorld) => Promise<void>][] = [
  [
    'logout (0x0103) - answered, then the connection closes without reconnecting',
    async (w) => {
      const a = await w.login('a');
      const gone = new Promise<{ willReconnect: boolean }>((resolve) => a.once('disconnected', resolve));
      await a.logout();
      expect((await gone).willReconnect).toBe(false);
      expect(a.state).toBe('disconnected');
      expect(a.user).toBeUndefined();
    },
  ],
  [
    'latest id (0x0305) and messages by id (0x0307) - of one conversation, by clientMsgId',
    async (w) => {
      const a = await w.login('a');
      const tag = `${Date.now()}-${Math.floor(Math.random() * 1e9)}`;
      await a.send({ to: w.ids.b, text: `first ${tag}`, clientMsgId: `first-${tag}` });
      await a.send({ to: w.ids.b, text: `second ${tag}`, clientMsgId: `second-${tag}` });
      const session = { sessionType: SessionType.SINGLE, sessionId: w.ids.b };
      expect(await a.latestMsgId(session)).toBe(`second-${tag}`);
      const found = await a.messagesById({ ...session, clientMsgIds: [`first-${tag}`, 'no-such-id'] });
      expect(found.map((m) => [m.clientMsgId, m.text, m.fromUserId])).toEqual([
        [`first-${tag}`, `first ${tag}`, w.ids.a],
      ]);
    },
  ],
  [
    'contacts (0x0601) - your contacts only: never a stranger, never oneself',
    async (w) => {
      const b = await w.login('b');
      const ids = (await b.friends()).map((u) => u.userId);
      expect(ids).toContain(w.ids.a);
      expect(ids).not.toContain(w.ids.c);
      expect(ids).not.toContain(w.ids.b);
    },
  ],
];
