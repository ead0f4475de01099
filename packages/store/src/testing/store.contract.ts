import { StoreUnavailableError, type Store } from '../index';
import { textMessage, type ContractFixture } from './contract/fixture';
import { botContract } from './contract/bots.contract';
import { scheduleContract } from './contract/schedules.contract';
import { groupContract } from './contract/groups.contract';
import { messageContract } from './contract/messages.contract';
import { contactContract } from './contract/contacts.contract';
import { pushContract } from './contract/push.contract';
import { receiptContract } from './contract/receipts.contract';
import { sessionContract } from './contract/sessions.contract';
import { syncContract } from './contract/sync.contract';
import { userContract } from './contract/users.contract';

/** How the contract suite gets stores of the implementation under test. */
export interface StoreContractTarget {
  /** A migrated store on a new, empty database, reading time from `clock` (Unix ms). */
  create(options: { clock: () => number }): Promise<Store>;
  /** Closes `store` and opens the same database again, same options. Omit if impossible. */
  reopen?(store: Store): Promise<Store>;
  /** Removes every database / file `create` made. Runs once, after the suite. */
  cleanup?(): Promise<void>;
  /** Reads and writes the password columns behind the store's back (at-rest checks). */
  rawPasswords?: RawPasswords;
}

/** The stored password columns of one user, as the database holds them. */
export interface RawPasswords {
  read(store: Store, userId: number): Promise<{ md5: string | null; hash: string | null }>;
  /** Puts a row in the state of a user created before hashing: the bare MD5, no hash. */
  writeLegacyMd5(store: Store, userId: number, md5: string): Promise<void>;
}

const START_MS = 1_750_000_000_000;

/**
 * The behaviour every `Store` implementation must show. One store serves the whole suite; tests
 * isolate themselves by using user ids nobody else in the run uses (`fx.ids`), so the suite also
 * exercises a store that already holds other users' data.
 */
export function runStoreContract(name: string, target: StoreContractTarget): void {
  describe(`${name} - store contract`, () => {
    let nextId = 1_000_000_000 + Math.floor(Math.random() * 1_000_000) * 1_000;
    let nextClient = 0;
    const fx: ContractFixture = {
      store: undefined as unknown as Store,
      ids: (n) => Array.from({ length: n }, () => nextId++),
      clientId: () => `c-${(nextClient++).toString(36)}-${Math.random().toString(36).slice(2, 10)}`,
      nowMs: START_MS,
      reopen: target.reopen
        ? async () => {
            fx.store = await target.reopen!(fx.store);
          }
        : undefined,
      rawPasswords: target.rawPasswords
        ? {
            read: (userId) => target.rawPasswords!.read(fx.store, userId),
            writeLegacyMd5: (userId, md5) => target.rawPasswords!.writeLegacyMd5(fx.store, userId, md5),
          }
        : undefined,
    };

    beforeAll(async () => {
      fx.store = await target.create({ clock: () => fx.nowMs });
    });
    afterAll(async () => {
      await fx.store?.close();
      await target.cleanup?.();
    });
    beforeEach(() => {
      fx.nowMs = START_MS;
    });

    messageContract(fx);
    sessionContract(fx);
    syncContract(fx);
    receiptContract(fx);
    userContract(fx);
    groupContract(fx);
    pushContract(fx);
    contactContract(fx);
    botContract(fx);
    scheduleContract(fx);
    lifecycleContract(fx, target);
  });
}

function lifecycleContract(fx: ContractFixture, target: StoreContractTarget): void {
  describe('lifecycle', () => {
    it('migrate - running it again changes nothing', async () => {
      const [a, b] = fx.ids(2) as [number, number];
      await fx.store.messages.save(textMessage(fx, { from: a, to: b, id: 1 }), [a, b]);
      await fx.store.migrate();
      await fx.store.migrate();
      expect(await fx.store.messages.history(a, 1, b, { limit: 10 })).toHaveLength(1);
    });

    (target.reopen ? it : it.skip)('reopen - everything stored survives close and reopen', async () => {
      const [a, b, g] = fx.ids(3) as [number, number, number];
      const msg = textMessage(fx, { from: a, to: b, id: 1 });
      await fx.store.messages.save(msg, [a, b]);
      await fx.store.messages.save(textMessage(fx, { from: b, to: g, id: 4, type: 2 }), [a, b]);
      await fx.store.sessions.markRead(b, 1, a, 0);
      const user = await fx.store.users.create({ userName: `reopen-${a}`, passwordMd5: 'a'.repeat(32) });
      await fx.store.tokens.issue(user.userId, 'tok');
      const group = await fx.store.groups.create({ name: 'persist', ownerUserId: a }, [b]);
      await fx.store.receipts.recordDelivered([
        { ownerUserId: b, sessionType: 1, sessionId: a, msgId: 1, atMs: 7 },
      ]);
      await fx.store.devices.register({ userId: a, platform: 'fcm', token: 'persisted', clientType: 1 });
      await fx.store.mutes.set(a, 2, g, true);

      await fx.reopen!();

      expect(await fx.store.messages.findSent(a, msg.clientMsgId)).toMatchObject({ serverMsgId: 1 });
      expect(await fx.store.messages.history(b, 1, a, { limit: 10 })).toHaveLength(1);
      expect(await fx.store.messages.maxServerMsgId({ type: 2, groupId: g })).toBe(4);
      expect(await fx.store.messages.save(msg, [a, b])).toBe('duplicate');
      expect((await fx.store.sessions.recent(b)).map((s) => [s.sessionId, s.unreadCnt])).toEqual([
        [g, 0],
        [a, 0],
      ]);
      expect(await fx.store.sessions.recent(a)).toHaveLength(2);
      expect(await fx.store.users.verifyPassword(`reopen-${a}`, 'a'.repeat(32))).toEqual(user);
      expect(await fx.store.tokens.verify(user.userId, 'tok')).toBe(true);
      expect(await fx.store.groups.members(group.groupId)).toEqual([a, b].sort((x, y) => x - y));
      expect(await fx.store.receipts.get(b, 1, a)).toMatchObject({ deliveredMsgId: 1, readMsgId: 1 });
      expect(await fx.store.devices.list([a])).toHaveLength(1);
      expect(await fx.store.mutes.isMuted(a, 2, g)).toBe(true);
    });

    it('close - saves already submitted commit; later calls reject with StoreUnavailableError', async () => {
      let store = await target.create({ clock: () => fx.nowMs });
      const [a, b] = fx.ids(2) as [number, number];
      const pending = Array.from({ length: 20 }, (_, i) =>
        store.messages.save(textMessage(fx, { from: a, to: b, id: i + 1 }), [a, b]),
      );
      await store.close();
      await expect(Promise.all(pending)).resolves.toEqual(Array(20).fill('inserted'));
      await expect(store.messages.history(a, 1, b, { limit: 1 })).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
      await expect(
        store.messages.save(textMessage(fx, { from: a, to: b, id: 99 }), [a, b]),
      ).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.close()).resolves.toBeUndefined();
      if (target.reopen) {
        store = await target.reopen(store);
        expect(await store.messages.history(a, 1, b, { limit: 100 })).toHaveLength(20);
        await store.close();
      }
    });
  });
}
