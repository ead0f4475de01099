import { createImClient, SessionType, type ImClient } from '@mqim/sdk';
import {
  describeInfra,
  probeMysql,
  probeRedis,
  probeRocketMq,
  startCluster,
  waitFor,
  type MqimCluster,
  recordSocialEvents,
} from '@mqim/testing';

const WAIT = { timeoutMs: 20_000 };

/**
 * Issue 12 on the cluster: contacts, typing, presence and profile between users on two gate
 * processes, one over TCP and one over WebSocket, through RocketMQ, MySQL (migration 0004) and
 * Redis (routes = presence).
 */
describeInfra(
  'social cluster - contacts, typing, presence across two gates (TCP and WS)',
  [probeRocketMq(), probeMysql(), probeRedis()],
  () => {
    let cluster: MqimCluster;
    const clients: ImClient[] = [];

    const createUser = async (userName: string): Promise<number> => {
      const res = await fetch(`${cluster.api!.url}/api/v1/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${cluster.api!.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ userName, password: 'secret' }),
      });
      expect(res.status).toBeLessThan(300);
      return ((await res.json()) as { userId: number }).userId;
    };
    const login = async (userName: string, url: string | string[], reconnect = false) => {
      const c = createImClient({ url, requestTimeoutMs: 15_000, reconnect });
      clients.push(c);
      const seen = recordSocialEvents(c);
      await c.loginWithPassword(userName, 'secret');
      return { c, seen };
    };

    beforeAll(async () => {
      cluster = await startCluster({ name: 'social_e2e', gates: 2, logic: 1, jobs: 1 });
    }, 240_000);

    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await cluster?.stop();
    }, 60_000);

    it('contacts, typing, presence, profile and blocks between a TCP user on gate 1 and a WS user on gate 2', async () => {
      const annId = await createUser('s-ann');
      const benId = await createUser('s-ben');
      // Ann reconnects to gate 2 (WS) when gate 1 goes, at the end.
      const ann = await login('s-ann', [cluster.gates[0]!.tcp, cluster.gates[1]!.ws], true);
      // 0x0601 no longer lists the server's users.
      expect(await ann.c.friends()).toEqual([]);
      await ann.c.subscribePresence();

      // Contacts: request on gate 1, notice and accept on gate 2 (WS), notice back on gate 1.
      const ben = await login('s-ben', cluster.gates[1]!.ws);
      expect(await ann.c.requestFriend(benId, 'hello from gate 1')).toMatchObject({ state: 'requested' });
      await waitFor(
        () => ben.seen.contact.find((n) => n.event === 'requested' && n.peerUserId === annId),
        WAIT,
      );
      expect(await ben.c.acceptFriend(annId)).toMatchObject({ state: 'friends' });
      await waitFor(
        () => ann.seen.contact.find((n) => n.event === 'accepted' && n.peerUserId === benId),
        WAIT,
      );
      expect((await ann.c.friends()).map((u) => u.userId)).toEqual([benId]);
      expect(await ann.c.presence([benId])).toEqual([{ userId: benId, online: true, devices: 1 }]);

      // Typing across gates, never stored.
      await ben.c.sendTyping(annId, true);
      await waitFor(() => ann.seen.typing.find((t) => t.fromUserId === benId && t.typing), WAIT);
      expect(await ann.c.history({ sessionType: SessionType.SINGLE, sessionId: benId })).toEqual([]);

      // Presence across gates, multi-device: a second ben on gate 1 (TCP), then both leave.
      const ben2 = await login('s-ben', cluster.gates[0]!.tcp);
      await waitFor(() => ann.seen.presence.find((p) => p.userId === benId && p.devices === 2), WAIT);
      await ben.c.close();
      await waitFor(
        () => ann.seen.presence.find((p) => p.userId === benId && p.online && p.devices === 1),
        WAIT,
      );
      expect(ann.seen.presence.some((p) => p.userId === benId && !p.online)).toBe(false);
      await ben2.c.close();
      await waitFor(() => ann.seen.presence.find((p) => p.userId === benId && !p.online), WAIT);

      // Profile change on gate 1 reaches ben back on gate 2.
      const ben3 = await login('s-ben', cluster.gates[1]!.ws);
      await ann.c.updateProfile({ nickName: 'Ann (cluster)' });
      await waitFor(
        () => ben3.seen.profile.find((u) => u.userId === annId && u.nickName === 'Ann (cluster)'),
        WAIT,
      );

      // A block on MySQL refuses the send that crosses gates.
      await ben3.c.blockUser(annId);
      await expect(ann.c.send({ to: benId, text: 'blocked?' })).rejects.toMatchObject({
        detail: { errorName: 'IM_ERR_BLOCKED' },
      });
      expect(ben3.seen.messages).toEqual([]);
      await ben3.c.unblockUser(annId);
      await ann.c.requestFriend(benId);
      await ben3.c.acceptFriend(annId);

      // Gate 1 stops: ann's SDK reconnects to gate 2 and renews her presence subscription there.
      let reconnected = false;
      ann.c.on('reconnected', () => (reconnected = true));
      await cluster.gates[0]!.proc.stop();
      await waitFor(() => reconnected, WAIT);
      const seenBefore = ann.seen.presence.length;
      await ben3.c.close();
      await waitFor(
        () => ann.seen.presence.slice(seenBefore).find((p) => p.userId === benId && !p.online),
        WAIT,
      );
    }, 120_000);
  },
);
