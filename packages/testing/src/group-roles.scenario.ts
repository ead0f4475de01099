import { createImClient, type ImClient, type ImMessage } from '@mqim/sdk';
import { waitFor } from './net';

/** Where the group-roles scenario runs: a standalone or a cluster, as its clients and the HTTP API see it. */
export interface GroupRolesTarget {
  /** Client URLs; the scenario's users connect to them in turn (mix TCP and WS, several gates). */
  urls: string[];
  /** An HTTP call to `/api/v1<path>` with the API key; the body parsed (undefined when empty). */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** A new user with password `secret`; returns its id. */
  createUser(name: string): Promise<number>;
  /** Unique per run, so users of earlier runs on the same database do not collide. */
  prefix: string;
}

const NOTIFICATION = 9;

interface User {
  id: number;
  c: ImClient;
  box: ImMessage[];
}

/** The group notices `u` received for `groupId` that name a change, in arrival order. */
function noticesSeen(u: User, groupId: number): { change: string; groupName?: string }[] {
  return u.box
    .filter((m) => m.msgType === NOTIFICATION && m.sessionId === groupId)
    .map(
      (m) =>
        (JSON.parse(new TextDecoder().decode(m.data)) as { data: { change?: string; groupName?: string } })
          .data,
    )
    .filter((d): d is { change: string; groupName?: string } => !!d.change);
}

/** The `data.change` of the group notices `u` received for `groupId`, in arrival order. */
function changesSeen(u: User, groupId: number): string[] {
  return noticesSeen(u, groupId).map((d) => d.change);
}

/**
 * Issue 12/13 end to end: group roles, mutes, transfer and read receipts from clients (SDK) and
 * over HTTP, each change heard by every member wherever it is connected; returns the clients for
 * the caller to close. Runs inside one jest test.
 */
export async function runGroupRolesScenario(t: GroupRolesTarget): Promise<ImClient[]> {
  const clients: ImClient[] = [];
  const login = async (name: string, i: number): Promise<User> => {
    const id = await t.createUser(`${t.prefix}${name}`);
    const c = createImClient({ url: t.urls[i % t.urls.length]!, requestTimeoutMs: 15_000, reconnect: false });
    clients.push(c);
    const box: ImMessage[] = [];
    c.on('message', (m) => box.push(m));
    await c.loginWithPassword(`${t.prefix}${name}`, 'secret');
    return { id, c, box };
  };
  const owner = await login('owner', 0);
  const adm = await login('adm', 1);
  const mem = await login('mem', 2);
  const late = await login('late', 3);
  const everyone = [owner, adm, mem];
  const heard = async (users: User[], groupId: number, change: string) =>
    waitFor(() => users.every((u) => changesSeen(u, groupId).includes(change)), {
      timeoutMs: 15_000,
      message: `not every member heard "${change}"`,
    });

  // Client commands: create, make an admin, the admin mutes a member.
  const { group } = await owner.c.createGroup({ name: `${t.prefix}team`, memberIds: [adm.id, mem.id] });
  const gid = group.groupId;
  expect((await owner.c.setGroupAdmin(gid, adm.id, true)).notification).toBeDefined();
  await heard(everyone, gid, 'admin_added');
  await adm.c.muteGroupMember(gid, mem.id, true);
  await heard(everyone, gid, 'member_muted');
  await expect(mem.c.send({ to: gid, sessionType: 2, text: 'let me speak' })).rejects.toMatchObject({
    code: 'IM_ERR_SEND_REFUSED',
    detail: { errorName: 'IM_ERR_GROUP_MUTED' },
  });
  await expect(mem.c.muteGroupMember(gid, adm.id, true)).rejects.toMatchObject({ resultCode: 10201 });
  // `system: true` only lets a non-member post: a muted member is still muted.
  const asSystem = await t.api('POST', '/messages', {
    from: mem.id,
    sessionType: 2,
    to: gid,
    system: true,
    text: 'x',
  });
  expect(asSystem.status).toBe(403);
  expect((asSystem.body as { error: { code: string } }).error.code).toBe('IM_ERR_GROUP_MUTED');

  // HTTP: mute all, unmute the member; the admin still sends while the group is muted.
  const put = (path: string, body: unknown) => t.api('PUT', `/groups/${gid}${path}`, body);
  expect((await put('/mute', { by: owner.id, muted: true })).status).toBe(204);
  await heard(everyone, gid, 'muted_all');
  expect((await put(`/members/${mem.id}/mute`, { by: adm.id, muted: false })).status).toBe(204);
  await expect(mem.c.send({ to: gid, sessionType: 2, text: 'still muted' })).rejects.toMatchObject({
    detail: { errorName: 'IM_ERR_GROUP_MUTED' },
  });
  const viaHttp = await t.api('POST', '/messages', {
    from: mem.id,
    sessionType: 2,
    to: gid,
    text: 'via http',
  });
  expect(viaHttp.status).toBe(403);
  expect((viaHttp.body as { error: { code: string } }).error.code).toBe('IM_ERR_GROUP_MUTED');
  await adm.c.send({ to: gid, sessionType: 2, text: 'admins may speak' });
  expect((await put('/mute', { by: adm.id, muted: false })).status).toBe(204);
  await mem.c.send({ to: gid, sessionType: 2, text: 'free again' });
  // Group notices are the server's: a client cannot send one (the api can).
  await expect(
    mem.c.send({ to: gid, sessionType: 2, msgType: NOTIFICATION, data: new TextEncoder().encode('{}') }),
  ).rejects.toMatchObject({ detail: { errorName: 'IM_ERR_INVALID_ARGUMENT' } });

  // Read receipts: the owner's message, read by two members on other connections.
  const sent = await owner.c.send({ to: gid, sessionType: 2, text: 'please read' });
  await adm.c.markRead(2, gid, sent.serverMsgId);
  await mem.c.markRead(2, gid, sent.serverMsgId);
  await waitFor(async () => (await owner.c.groupReadReceipts(gid, [sent.serverMsgId]))[0]?.readCount === 2, {
    timeoutMs: 15_000,
    message: 'the read acks were not counted',
  });
  expect(await owner.c.groupReadReceipts(gid, [sent.serverMsgId])).toEqual([
    {
      msgId: sent.serverMsgId,
      readCount: 2,
      unreadCount: 0,
      readerIds: [adm.id, mem.id].sort((a, b) => a - b),
      readersListed: true,
    },
  ]);
  // The largest id is asked as it is; the others are still answered.
  expect(
    (await owner.c.groupReadReceipts(gid, [Number.MAX_SAFE_INTEGER, sent.serverMsgId])).map((r) => r.msgId),
  ).toEqual([sent.serverMsgId]);

  // HTTP: rename by the admin, roles, transfer; then the old owner may no longer set admins.
  expect((await put('/name', { by: adm.id, name: `${t.prefix}renamed` })).status).toBe(204);
  await heard(everyone, gid, 'renamed');
  expect((await owner.c.groupInfo([gid]))[0]!.name).toBe(`${t.prefix}renamed`);
  expect(await t.api('GET', `/groups/${gid}/roles?by=${mem.id}`)).toEqual({
    status: 200,
    body: { groupId: gid, ownerId: owner.id, adminIds: [adm.id], mutedAll: false, mutedIds: [] },
  });
  expect((await put('/owner', { by: owner.id, owner: adm.id })).status).toBe(204);
  await heard(everyone, gid, 'owner_transferred');
  // A retry (as after a 504) finds it done: 204 again, no second notice.
  expect((await put('/owner', { by: owner.id, owner: adm.id })).status).toBe(204);
  expect(await adm.c.groupRoles(gid)).toEqual({
    groupId: gid,
    ownerId: adm.id,
    adminIds: [],
    mutedAll: false,
    mutedIds: [],
  });
  const refused = await put(`/admins/${mem.id}`, { by: owner.id });
  expect(refused.status).toBe(403);
  expect((refused.body as { error: { code: string } }).error.code).toBe('IM_ERR_FORBIDDEN');
  expect((await t.api('PUT', `/groups/${gid}/admins/${mem.id}`, { by: adm.id })).status).toBe(204);
  expect((await t.api('DELETE', `/groups/${gid}/admins/${mem.id}`, { by: adm.id })).status).toBe(204);
  await heard(everyone, gid, 'admin_removed');

  // HTTP invite by the new owner: the late user joins and hears the next change.
  expect((await t.api('POST', `/groups/${gid}/members`, { by: adm.id, members: [late.id] })).status).toBe(
    204,
  );
  expect((await late.c.listGroups()).map((g) => g.groupId)).toContain(gid);
  await adm.c.renameGroup(gid, `${t.prefix}final`);
  // Every member, the late one included, hears this rename (not the first one) with its new name.
  await waitFor(
    () =>
      [...everyone, late].every((u) =>
        noticesSeen(u, gid).some((d) => d.change === 'renamed' && d.groupName === `${t.prefix}final`),
      ),
    { timeoutMs: 15_000, message: 'not every member heard the second rename' },
  );
  expect(changesSeen(owner, gid).filter((c) => c === 'owner_transferred')).toHaveLength(1);

  // A mute outlives leaving: muted, kicked and invited again, the late member is still muted.
  expect((await put(`/members/${late.id}/mute`, { by: adm.id, muted: true })).status).toBe(204);
  expect((await t.api('DELETE', `/groups/${gid}/members`, { by: adm.id, members: [late.id] })).status).toBe(
    204,
  );
  expect((await t.api('POST', `/groups/${gid}/members`, { by: adm.id, members: [late.id] })).status).toBe(
    204,
  );
  await expect(late.c.send({ to: gid, sessionType: 2, text: 'back and free?' })).rejects.toMatchObject({
    detail: { errorName: 'IM_ERR_GROUP_MUTED' },
  });

  // Bad input over HTTP: a clear code, nothing changed.
  expect((await t.api('PUT', '/groups/abc/name', { by: adm.id, name: 'x' })).status).toBe(400);
  expect((await t.api('PUT', `/groups/${gid}/owner`, { by: adm.id, owner: 'me' })).status).toBe(400);
  const missing = await t.api('PUT', '/groups/999999999/mute', { by: adm.id, muted: true });
  expect(missing.status).toBe(404);
  // Ids above 2^53 in a path: 400, not a server error.
  const big = '9007199254740993';
  for (const [method, path, body] of [
    ['PUT', `/groups/${big}/name`, { by: adm.id, name: 'x' }],
    ['PUT', `/groups/${gid}/admins/${big}`, { by: adm.id }],
    ['PUT', `/groups/${gid}/members/${big}/mute`, { by: adm.id, muted: true }],
    ['GET', `/groups/${gid}/roles?by=${big}`, undefined],
    ['POST', `/groups/${big}/members`, { by: adm.id, members: [mem.id] }],
  ] as const) {
    const res = await t.api(method, path, body);
    expect({
      path,
      status: res.status,
      code: (res.body as { error?: { code: string } }).error?.code,
    }).toEqual({
      path,
      status: 400,
      code: 'IM_ERR_ID_OUT_OF_RANGE',
    });
  }
  expect((await adm.c.groupRoles(gid)).ownerId).toBe(adm.id);
  return clients;
}
