import { CommandId, decodeBody } from '@mqim/protocol';
import { ImRequestFailedError } from './im.errors';
import { ALICE, startHarness, type ClientHarness } from './testing';

/** Group calls are thin: each test checks the request's encoding and the response's command id. */
describe('ImClient - group calls', () => {
  let h: ClientHarness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  it('createGroup - 0x0501 with name and members, answered by 0x0502', async () => {
    h.server.handle(CommandId.GROUP_CREATE_DEFAULT_REQ, ({ conn, seq, body }) => {
      const req = decodeBody(CommandId.GROUP_CREATE_DEFAULT_REQ, body);
      expect(Number(req.userId)).toBe(1);
      expect(req.groupName).toBe('team');
      expect(req.memberIdList.map(Number)).toEqual([2, 3]);
      conn.write(CommandId.GROUP_CREATE_DEFAULT_RSP, seq, {
        userId: 1,
        resultCode: 200,
        groupInfo: { groupId: 100, groupName: 'team', groupOwnerId: 1, createTime: 1700000000 },
        memberIdList: [1, 2, 3],
        attachNotificationMsg: Buffer.from('note'),
      });
    });
    const alice = await h.login(ALICE);
    const result = await alice.createGroup({ name: 'team', memberIds: [2, 3] });
    expect(result.group).toMatchObject({ groupId: 100, name: 'team', ownerId: 1, createTime: 1700000000 });
    expect(result.memberIds).toEqual([1, 2, 3]);
    expect(new TextDecoder().decode(result.notification)).toBe('note');
  });

  it('createGroup - a result code other than 200 rejects with IM_ERR_REQUEST_FAILED', async () => {
    h.server.handle(CommandId.GROUP_CREATE_DEFAULT_REQ, ({ conn, seq }) =>
      conn.write(CommandId.GROUP_CREATE_DEFAULT_RSP, seq, { userId: 1, resultCode: 9001 }),
    );
    const alice = await h.login(ALICE);
    const failure = await alice.createGroup({ name: '', memberIds: [] }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ImRequestFailedError);
    expect(failure).toMatchObject({ code: 'IM_ERR_REQUEST_FAILED', resultCode: 9001, command: 0x0501 });
  });

  it.each([
    ['disbandGroup', '0x0503', '0x0504', CommandId.GROUP_DISBINGDING_REQ, CommandId.GROUP_DISBINGDING_RSP],
    ['exitGroup', '0x0505', '0x0506', CommandId.GROUP_EXIT_REQ, CommandId.GROUP_EXIT_RSP],
  ] as const)('%s - %s answered by %s', async (method, _req, _rsp, req, rsp) => {
    h.server.handle(req, ({ conn, seq, body }) => {
      const decoded = decodeBody(req, body);
      conn.write(rsp, seq, { userId: decoded.userId, groupId: decoded.groupId, resultCode: 200 });
    });
    const alice = await h.login(ALICE);
    expect(await alice[method](100)).toEqual({ groupId: 100, notification: undefined });
  });

  it.each([
    [
      'inviteMembers',
      '0x0511',
      '0x0512',
      CommandId.GROUP_INVITE_MEMBER_REQ,
      CommandId.GROUP_INVITE_MEMBER_RSP,
    ],
    [
      'kickMembers',
      '0x0513',
      '0x0514',
      CommandId.GROUP_KICK_OUT_MEMBER_REQ,
      CommandId.GROUP_KICK_OUT_MEMBER_RSP,
    ],
  ] as const)('%s - %s with members, answered by %s', async (method, _req, _rsp, req, rsp) => {
    h.server.handle(req, ({ conn, seq, body }) => {
      const decoded = decodeBody(req, body);
      expect(decoded.memberIdList.map(Number)).toEqual([4, 5]);
      conn.write(rsp, seq, {
        userId: 1,
        groupId: decoded.groupId,
        resultCode: 200,
        attachNotificationMsg: Buffer.from('n'),
      });
    });
    const alice = await h.login(ALICE);
    const result = await alice[method](100, [4, 5]);
    expect(result.groupId).toBe(100);
    expect(new TextDecoder().decode(result.notification)).toBe('n');
  });

  it('kickMembers - the response id is 0x0514 (the original server wrongly sent 0x0512)', async () => {
    expect(CommandId.GROUP_KICK_OUT_MEMBER_RSP).toBe(0x0514);
    h.server.handle(CommandId.GROUP_KICK_OUT_MEMBER_REQ, ({ conn, seq }) =>
      conn.write(CommandId.GROUP_INVITE_MEMBER_RSP, seq, { userId: 1, groupId: 100, resultCode: 200 }),
    );
    const alice = await h.login(ALICE, { requestTimeoutMs: 50 });
    await expect(alice.kickMembers(100, [2])).rejects.toMatchObject({ code: 'IM_ERR_TIMEOUT' });
  });

  it('listGroups and groupInfo - 0x0507/0x0508, then 0x0509 answered by 0x0510', async () => {
    expect(CommandId.GROUP_INFO_RSP).toBe(0x0510);
    h.server.handle(CommandId.GROUP_LIST_REQ, ({ conn, seq }) =>
      conn.write(CommandId.GROUP_LIST_RSP, seq, {
        userId: 1,
        groupVersionList: [{ groupId: 100, groupVersion: 3 }],
      }),
    );
    h.server.handle(CommandId.GROUP_INFO_REQ, ({ conn, seq, body }) => {
      const req = decodeBody(CommandId.GROUP_INFO_REQ, body);
      expect(req.groupVersionList.map((v) => [Number(v.groupId), v.groupVersion])).toEqual([
        [100, 3],
        [200, 0],
      ]);
      conn.write(CommandId.GROUP_INFO_RSP, seq, {
        userId: 1,
        resultCode: 200,
        groupInfoList: [{ groupId: 100, groupName: 'team' }, { groupId: 200 }],
      });
    });
    const alice = await h.login(ALICE);
    const versions = await alice.listGroups();
    expect(versions).toEqual([{ groupId: 100, version: 3 }]);
    const infos = await alice.groupInfo([...versions, 200]);
    expect(infos.map((g) => [g.groupId, g.name])).toEqual([
      [100, 'team'],
      [200, ''],
    ]);
  });

  it('groupMembers - 0x0516 answered by 0x0517', async () => {
    h.server.handle(CommandId.GROUP_LIST_MEMBER_REQ, ({ conn, seq, body }) => {
      const req = decodeBody(CommandId.GROUP_LIST_MEMBER_REQ, body);
      conn.write(CommandId.GROUP_LIST_MEMBER_RSP, seq, {
        userId: 1,
        groupId: req.groupId,
        memberIdList: [1, 7],
      });
    });
    const alice = await h.login(ALICE);
    expect(await alice.groupMembers(100)).toEqual([1, 7]);
  });

  it.each([
    [
      'setGroupAdmin',
      CommandId.GROUP_SET_ADMIN_REQ,
      [100, 7, true],
      { groupId: 100, userId: 7, admin: true },
    ],
    ['renameGroup', CommandId.GROUP_RENAME_REQ, [100, 'new'], { groupId: 100, groupName: 'new' }],
    ['muteGroup', CommandId.GROUP_MUTE_ALL_REQ, [100, true], { groupId: 100, muted: true }],
    [
      'muteGroupMember',
      CommandId.GROUP_MUTE_MEMBER_REQ,
      [100, 7, true],
      { groupId: 100, userId: 7, muted: true },
    ],
    ['transferGroup', CommandId.GROUP_TRANSFER_OWNER_REQ, [100, 7], { groupId: 100, newOwnerId: 7 }],
  ] as const)(
    '%s - its request, answered by the next id; a refusal rejects with its number',
    async (method, cmd, args, fields) => {
      let refuse = false;
      h.server.handle(cmd, ({ conn, seq, body }) => {
        const req = decodeBody(cmd, body) as unknown as Record<string, unknown>;
        for (const [k, v] of Object.entries(fields))
          expect(typeof v === 'number' ? Number(req[k]) : req[k]).toEqual(v);
        conn.write((cmd + 1) as typeof CommandId.GROUP_SET_ADMIN_RSP, seq, {
          groupId: 100,
          resultCode: refuse ? 10201 : 200,
          attachNotificationMsg: Buffer.from('n'),
        });
      });
      const alice = await h.login(ALICE);
      const call = () => (alice[method] as (...a: unknown[]) => Promise<unknown>)(...args);
      expect(await call()).toEqual({ groupId: 100, notification: new TextEncoder().encode('n') });
      refuse = true;
      await expect(call()).rejects.toMatchObject({
        code: 'IM_ERR_REQUEST_FAILED',
        resultCode: 10201,
        command: cmd,
      });
    },
  );

  it('groupRoles and groupReadReceipts - 0x084A / 0x084C answered by 0x084B / 0x084D', async () => {
    h.server.handle(CommandId.GROUP_ROLES_REQ, ({ conn, seq }) =>
      conn.write(CommandId.GROUP_ROLES_RSP, seq, {
        groupId: 100,
        resultCode: 200,
        ownerId: 1,
        adminIds: [2],
        mutedAll: true,
        mutedIds: [3],
      }),
    );
    h.server.handle(CommandId.GROUP_READ_RECEIPTS_REQ, ({ conn, seq, body }) => {
      const req = decodeBody(CommandId.GROUP_READ_RECEIPTS_REQ, body);
      expect(req.msgIds.map(Number)).toEqual([5, 6]);
      conn.write(CommandId.GROUP_READ_RECEIPTS_RSP, seq, {
        groupId: 100,
        resultCode: 200,
        receipts: [{ msgId: 5, readCount: 2, unreadCount: 1, readerIds: [2, 3], readersListed: true }],
      });
    });
    const alice = await h.login(ALICE);
    expect(await alice.groupRoles(100)).toEqual({
      groupId: 100,
      ownerId: 1,
      adminIds: [2],
      mutedAll: true,
      mutedIds: [3],
    });
    expect(await alice.groupReadReceipts(100, [5, 6])).toEqual([
      { msgId: 5, readCount: 2, unreadCount: 1, readerIds: [2, 3], readersListed: true },
    ]);
    await expect(alice.groupReadReceipts(100, [-1])).rejects.toMatchObject({
      code: 'IM_ERR_INVALID_ARGUMENT',
    });
  });
});
