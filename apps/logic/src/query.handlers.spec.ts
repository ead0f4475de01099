import { CIM, CommandId, SessionType } from '@mqim/protocol';
import { createSqliteStore, type SessionRecord, type Store } from '@mqim/store';
import type { LogicDeps } from './logic-deps';
import { handleRecentSessions } from './query.handlers';
import type { RequestContext } from './request-context';

/** 0x0201 for a user with more single chats than one store lookup takes (10,000 ids). */
describe('logic - recent sessions of a user with more than 10,000 chats', () => {
  let store: Store;

  beforeEach(async () => {
    store = await createSqliteStore({ filename: ':memory:' });
  });
  afterEach(async () => {
    await store.close();
  });

  it('recent sessions - lists all 12,000 chats and flags the bots among them', async () => {
    const OWNER = 1;
    const PEERS = 12_000;
    await store.bots.set(100, 'https://bots.example/a');
    await store.bots.set(11_900, 'https://bots.example/b');
    const session = (peer: number): SessionRecord => ({
      ownerUserId: OWNER,
      sessionType: SessionType.SINGLE,
      sessionId: peer,
      status: 0,
      unreadCnt: 1,
      readUpTo: 0,
      updatedTime: 1_000,
      lastMessage: {
        clientMsgId: `m${peer}`,
        serverMsgId: 1,
        createTime: 1_000,
        msgData: new Uint8Array([1]),
        msgType: 1,
        fromUserId: peer,
        attach: '',
      } as unknown as SessionRecord['lastMessage'],
    });
    const sessions = Array.from({ length: PEERS }, (_, i) => session(i + 2));
    store.sessions.recent = async () => sessions;
    const replies: { cmd: number; body: Uint8Array }[] = [];
    const ctx = {
      userId: OWNER,
      req: { body: CIM.List.CIMRecentContactSessionReq.encode({ userId: OWNER }).finish() },
      reply: async (cmd: number, body: Uint8Array) => {
        replies.push({ cmd, body });
      },
    } as unknown as RequestContext;

    await handleRecentSessions({ store } as unknown as LogicDeps, ctx);

    expect(replies.map((r) => r.cmd)).toEqual([CommandId.LIST_RECENT_CONTACT_SESSION_RSP]);
    const rsp = CIM.List.CIMRecentContactSessionRsp.decode(replies[0]!.body);
    expect(rsp.contactSessionList).toHaveLength(PEERS);
    expect(rsp.unreadCounts).toBe(PEERS);
    const robots = rsp.contactSessionList.filter((s) => s.isRobotSession).map((s) => Number(s.sessionId));
    expect(robots).toEqual([100, 11_900]);
  });
});
