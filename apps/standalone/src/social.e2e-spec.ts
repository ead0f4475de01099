import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startStandalone, type Standalone } from '@mqim/composition';
import { mqimSchema, readConfig } from '@mqim/config';
import { createImClient, SessionType, type ImClient } from '@mqim/sdk';
import { RawClient, waitFor, recordSocialEvents } from '@mqim/testing';
import { CIM, CommandId } from '@mqim/protocol';
import { loopbackEnv, registerUsers } from './testing/standalone.fixture';

const KEY = 'k-social-0123456789abc';
const WAIT = { timeoutMs: 10_000 };

/**
 * Issue 12 on the standalone: contacts (requests, answers, removal, blocks), 0x0601 listing
 * contacts only, typing, presence and profile changes, driven by the SDK over TCP and WS.
 */
describe('social - contacts, typing, presence, profile on the standalone', () => {
  let dir: string;
  let s: Standalone;
  let ids: Record<string, number>;
  const open: ImClient[] = [];

  const login = async (name: string, transport: 'tcp' | 'ws' = 'tcp') => {
    const url = transport === 'tcp' ? `tcp://127.0.0.1:${s.ports.tcp}` : `ws://127.0.0.1:${s.ports.ws}/ws`;
    const c = createImClient({ url, requestTimeoutMs: 10_000 });
    open.push(c);
    const seen = recordSocialEvents(c);
    await c.loginWithPassword(name, 'pw');
    return { c, seen };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mqim-social-'));
    s = await startStandalone(
      readConfig(mqimSchema, loopbackEnv(dir, { MQIM_API_KEY: KEY })),
      pino({ level: 'warn' }),
    );
    ids = await registerUsers(s, ['ann', 'ben', 'cat', 'dan', 'eve', 'fay', 'gus']);
  }, 60_000);

  // Each test starts with nobody online (presence depends on it).
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await waitFor(async () => (await s.cache.routes.online(0, 10)).total === 0, WAIT);
  });

  afterAll(async () => {
    await s?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('contacts - 0x0601 lists no strangers; request, notice, accept makes both contacts', async () => {
    const ann = await login('ann');
    const ben = await login('ben', 'ws');
    // Before issue 12 this listed every user of the server.
    expect(await ann.c.friends()).toEqual([]);

    expect(await ann.c.requestFriend(ids.ben!, 'hi ben')).toEqual({
      peerUserId: ids.ben,
      state: 'requested',
    });
    const asked = await waitFor(() => ben.seen.contact.find((n) => n.event === 'requested'), WAIT);
    expect(asked).toMatchObject({ peerUserId: ids.ann, request: { fromUserId: ids.ann, note: 'hi ben' } });
    expect((await ben.c.friendRequests()).incoming.map((r) => [r.fromUserId, r.fromUser?.nickName])).toEqual([
      [ids.ann, 'ann'],
    ]);

    expect(await ben.c.acceptFriend(ids.ann!)).toEqual({ peerUserId: ids.ann, state: 'friends' });
    await waitFor(
      () => ann.seen.contact.find((n) => n.event === 'accepted' && n.peerUserId === ids.ben),
      WAIT,
    );
    expect((await ann.c.friends()).map((u) => u.userId)).toEqual([ids.ben]);
    expect((await ben.c.friends()).map((u) => u.userId)).toEqual([ids.ann]);
    // A second accept (a retry) answers the same, and nothing is doubled.
    expect(await ben.c.acceptFriend(ids.ann!)).toMatchObject({ state: 'friends' });
    expect(await ben.c.friends()).toHaveLength(1);
  });

  it('contacts - a declined request: the requester is told, nothing is left pending, 0x0601 stays empty', async () => {
    const cat = await login('cat');
    const dan = await login('dan', 'ws');
    await cat.c.requestFriend(ids.dan!, 'hello?');
    await waitFor(() => dan.seen.contact.find((n) => n.event === 'requested'), WAIT);
    expect(await dan.c.declineFriend(ids.cat!)).toEqual({ peerUserId: ids.cat, state: 'none' });
    await waitFor(
      () => cat.seen.contact.find((n) => n.event === 'declined' && n.peerUserId === ids.dan),
      WAIT,
    );
    expect(await cat.c.friendRequests()).toEqual({ incoming: [], outgoing: [], blockedUserIds: [] });
    expect(await dan.c.friends()).toEqual([]);
  });

  it('contacts - bad input gets clear codes: unknown user, yourself, no request, oversized note', async () => {
    const cat = await login('cat');
    await expect(cat.c.requestFriend(987_654_321)).rejects.toMatchObject({
      detail: { errorName: 'IM_ERR_NOT_FOUND' },
    });
    await expect(cat.c.requestFriend(ids.cat!)).rejects.toMatchObject({
      detail: { errorName: 'IM_ERR_INVALID_ARGUMENT' },
    });
    await expect(cat.c.acceptFriend(ids.dan!)).rejects.toMatchObject({
      detail: { errorName: 'IM_ERR_NO_FRIEND_REQUEST' },
    });
    await expect(cat.c.requestFriend(ids.dan!, 'x'.repeat(300))).rejects.toMatchObject({
      detail: { errorName: 'IM_ERR_PAYLOAD_TOO_LARGE' },
    });
    // The connection is fine afterwards.
    expect(await cat.c.friends()).toEqual([]);
  });

  it('block - the blocked user cannot send (client or HTTP api), request, or type; unblock lifts it', async () => {
    const dan = await login('dan');
    const eve = await login('eve');
    await dan.c.requestFriend(ids.eve!);
    await eve.c.acceptFriend(ids.dan!);
    await dan.c.send({ sessionType: SessionType.SINGLE, to: ids.eve!, text: 'before' });
    await waitFor(() => eve.seen.messages.find((m) => m.text === 'before'), WAIT);

    expect(await eve.c.blockUser(ids.dan!)).toEqual({ peerUserId: ids.dan, state: 'blocked' });
    await expect(
      dan.c.send({ sessionType: SessionType.SINGLE, to: ids.eve!, text: 'after' }),
    ).rejects.toMatchObject({ detail: { errorName: 'IM_ERR_BLOCKED' } });
    const api = await s.api.inject({
      method: 'POST',
      url: '/api/v1/messages',
      headers: { authorization: `Bearer ${KEY}` },
      payload: { from: ids.dan, sessionType: 1, to: ids.eve, text: 'via api' },
    });
    expect(api.statusCode).toBe(403);
    expect(JSON.parse(api.body)).toMatchObject({ error: { code: 'IM_ERR_BLOCKED' } });
    await expect(dan.c.requestFriend(ids.eve!)).rejects.toMatchObject({
      detail: { errorName: 'IM_ERR_BLOCKED' },
    });
    expect(await dan.c.friends()).toEqual([]);
    await dan.c.sendTyping(ids.eve!, true);
    await waitFor(() => dan.seen.errors.find((e) => e.errorName === 'IM_ERR_BLOCKED'), WAIT);
    expect(eve.seen.typing).toEqual([]);
    expect((await eve.c.friendRequests()).blockedUserIds).toEqual([ids.dan]);
    // Eve may still write to dan (the block is hers) and nothing from dan reached her.
    await eve.c.send({ sessionType: SessionType.SINGLE, to: ids.dan!, text: 'one way' });
    expect(eve.seen.messages.filter((m) => m.fromUserId === ids.dan).map((m) => m.text)).toEqual(['before']);

    await eve.c.unblockUser(ids.dan!);
    await dan.c.send({ sessionType: SessionType.SINGLE, to: ids.eve!, text: 'again' });
    await waitFor(() => eve.seen.messages.find((m) => m.text === 'again'), WAIT);
  });

  it('typing - reaches a contact, refused to strangers, a flood is refused by code and the connection lives', async () => {
    const fay = await login('fay');
    const gus = await login('gus', 'ws');
    await expect(fay.c.presence([ids.gus!])).resolves.toEqual([]); // not a contact: not answered
    await fay.c.sendTyping(ids.gus!, true);
    await waitFor(() => fay.seen.errors.find((e) => e.errorName === 'IM_ERR_FORBIDDEN'), WAIT);
    expect(gus.seen.typing).toEqual([]);

    await fay.c.requestFriend(ids.gus!);
    await gus.c.acceptFriend(ids.fay!);
    await fay.c.sendTyping(ids.gus!, true);
    await waitFor(() => gus.seen.typing.find((t) => t.fromUserId === ids.fay && t.typing), WAIT);
    for (let i = 0; i < 30; i++) await fay.c.sendTyping(ids.gus!, i % 2 === 0);
    await waitFor(() => fay.seen.errors.find((e) => e.errorName === 'IM_ERR_TYPING_RATE_LIMITED'), WAIT);
    expect(gus.seen.typing.length).toBeLessThan(31);
    expect(await fay.c.friends()).toHaveLength(1);
  });

  it('presence - subscribers see a contact online while any device is, offline after the last', async () => {
    const ann = await login('ann');
    expect((await ann.c.subscribePresence()).find((p) => p.userId === ids.ben)).toMatchObject({
      online: false,
    });
    const ben1 = await login('ben', 'tcp');
    await waitFor(() => ann.seen.presence.find((p) => p.userId === ids.ben && p.online), WAIT);
    const ben2 = await login('ben', 'ws');
    await waitFor(() => ann.seen.presence.find((p) => p.userId === ids.ben && p.devices === 2), WAIT);
    expect(await ann.c.presence([ids.ben!, ids.cat!])).toEqual([
      { userId: ids.ben, online: true, devices: 2 },
    ]);

    await ben1.c.close();
    await waitFor(() => ann.seen.presence.find((p) => p.userId === ids.ben && p.devices === 1), WAIT);
    expect(ann.seen.presence.some((p) => p.userId === ids.ben && !p.online)).toBe(false);
    await ben2.c.close();
    await waitFor(() => ann.seen.presence.find((p) => p.userId === ids.ben && !p.online), WAIT);

    // A connection that did not subscribe gets no notices.
    const quiet = await login('ann', 'ws');
    const ben3 = await login('ben');
    await waitFor(() => ann.seen.presence.filter((p) => p.userId === ids.ben && p.online).length >= 3, WAIT);
    expect(quiet.seen.presence).toEqual([]);
    await ben3.c.close();
  });

  it('profile - a change reaches contacts and shows in their contact list; bad values are refused', async () => {
    const ann = await login('ann');
    const ben = await login('ben');
    const me = await ann.c.updateProfile({ nickName: 'Ann B.', avatarUrl: 'https://img.example/ann.png' });
    expect(me).toMatchObject({
      userId: ids.ann,
      nickName: 'Ann B.',
      avatarUrl: 'https://img.example/ann.png',
    });
    await waitFor(() => ben.seen.profile.find((u) => u.userId === ids.ann && u.nickName === 'Ann B.'), WAIT);
    expect((await ben.c.friends()).find((u) => u.userId === ids.ann)).toMatchObject({ nickName: 'Ann B.' });
    await expect(ann.c.updateProfile({ avatarUrl: 'javascript:alert(1)' })).rejects.toMatchObject({
      detail: { errorName: 'IM_ERR_INVALID_ARGUMENT' },
    });
    await expect(ann.c.updateProfile({ nickName: '' })).rejects.toMatchObject({
      detail: { errorName: 'IM_ERR_INVALID_ARGUMENT' },
    });
  });

  it('remove - both sides lose the contact and are told', async () => {
    const ann = await login('ann');
    const ben = await login('ben');
    expect(await ben.c.removeFriend(ids.ann!)).toEqual({ peerUserId: ids.ann, state: 'none' });
    await waitFor(
      () => ann.seen.contact.find((n) => n.event === 'removed' && n.peerUserId === ids.ben),
      WAIT,
    );
    expect(await ann.c.friends()).toEqual([]);
  });

  it('bad input - a client cannot forge the gate-only PRESENCE_CHANGED; garbage bodies get IM_ERR_BAD_BODY', async () => {
    const raw = await RawClient.connect('tcp', s.ports.tcp);
    const ann = await login('ann');
    await ann.c.requestFriend(ids.cat!);
    const watcher = await login('cat', 'ws');
    await watcher.c.acceptFriend(ids.ann!);
    await ann.c.subscribePresence();
    try {
      await raw.login('cat');
      await waitFor(() => ann.seen.presence.find((p) => p.userId === ids.cat && p.devices === 2), WAIT);
      // Ignored by the gate (unknown after login): contacts are not told cat went offline.
      raw.send(
        CommandId.PRESENCE_CHANGED,
        2,
        CIM.Social.MqimPresenceChanged.encode({ online: false }).finish(),
      );
      raw.send(CommandId.FRIEND_REQUEST_REQ, 3, Buffer.from([0xff, 0xff, 0xff]));
      const err = await raw.next(CommandId.ERROR_NOTIFY, 10_000);
      expect(CIM.Ext.MqimErrorNotify.decode(err.body)).toMatchObject({
        errorName: 'IM_ERR_BAD_BODY',
        requestSeq: 3,
      });
      expect(await ann.c.presence([ids.cat!])).toEqual([{ userId: ids.cat, online: true, devices: 2 }]);
      expect(ann.seen.presence.some((p) => p.userId === ids.cat && !p.online)).toBe(false);
    } finally {
      raw.close();
    }
  });
});
