import { randomBytes } from 'node:crypto';
import { StoreInvalidArgumentError, UserAlreadyExistsError } from '../../index';
import type { ContractFixture } from './fixture';

const md5 = 'e10adc3949ba59abbe56e057f20f883e';
const uniqueName = (prefix: string) => `${prefix}-${randomBytes(6).toString('hex')}`;

export function userContract(fx: ContractFixture): void {
  describe('users', () => {
    it('create - assigns increasing ids and fills defaults', async () => {
      const first = await fx.store.users.create({ userName: uniqueName('ann'), nickName: 'Ann' });
      const second = await fx.store.users.create({ userName: uniqueName('bob') });
      expect(second.userId).toBeGreaterThan(first.userId);
      expect(first).toMatchObject({
        nickName: 'Ann',
        phone: '',
        avatarUrl: '',
        attachInfo: '',
        nickNameSpell: '',
      });
      expect(first.createdAt).toBe(Math.floor(fx.nowMs / 1000));
      expect(await fx.store.users.findById(first.userId)).toEqual(first);
    });

    it('create - an explicit id (legacy register body) is kept', async () => {
      const [id] = fx.ids(1) as [number];
      const user = await fx.store.users.create({ userId: id, nickName: 'legacy' });
      expect(user).toMatchObject({ userId: id, userName: null, nickName: 'legacy' });
      await expect(fx.store.users.create({ userId: id })).rejects.toBeInstanceOf(UserAlreadyExistsError);
    });

    it('create - a taken user name fails with UserAlreadyExistsError; names compare exactly', async () => {
      const name = uniqueName('Carol');
      await fx.store.users.create({ userName: name });
      const err = await fx.store.users.create({ userName: name }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserAlreadyExistsError);
      expect((err as UserAlreadyExistsError).code).toBe('IM_ERR_USER_EXISTS');
      await expect(fx.store.users.create({ userName: name.toLowerCase() })).resolves.toMatchObject({
        userName: name.toLowerCase(),
      });
      // Several users without a name are fine (NULL is not a duplicate).
      await fx.store.users.create({});
      await fx.store.users.create({});
    });

    it('create - rejects what the columns cannot hold', async () => {
      await expect(fx.store.users.create({ userName: 'x'.repeat(65) })).rejects.toBeInstanceOf(
        StoreInvalidArgumentError,
      );
      await expect(fx.store.users.create({ passwordMd5: 'not-md5' })).rejects.toBeInstanceOf(
        StoreInvalidArgumentError,
      );
      await expect(fx.store.users.create({ nickName: '名'.repeat(129) })).rejects.toBeInstanceOf(
        StoreInvalidArgumentError,
      );
      // 128 characters of a 4-byte character fit (VARCHAR counts characters).
      await expect(fx.store.users.create({ nickName: '😀'.repeat(128) })).resolves.toMatchObject({
        nickName: '😀'.repeat(128),
      });
    });

    it('findByName / findMany / list - lookups and keyset paging', async () => {
      const name = uniqueName('dave');
      const users = [
        await fx.store.users.create({ userName: name }),
        await fx.store.users.create({}),
        await fx.store.users.create({}),
      ];
      expect(await fx.store.users.findByName(name)).toEqual(users[0]);
      expect(await fx.store.users.findByName(uniqueName('nobody'))).toBeNull();
      const ids = users.map((u) => u.userId);
      expect((await fx.store.users.findMany([ids[2]!, ids[0]!, 2 ** 40])).map((u) => u.userId)).toEqual([
        ids[0],
        ids[2],
      ]);
      const page = await fx.store.users.list({ limit: 2, afterId: ids[0]! - 1 });
      expect(page.map((u) => u.userId)).toEqual([ids[0], ids[1]]);
    });

    it('verifyPassword - matches the MD5 case-insensitively, nothing else', async () => {
      const name = uniqueName('erin');
      const user = await fx.store.users.create({ userName: name, passwordMd5: md5.toUpperCase() });
      expect(await fx.store.users.verifyPassword(name, md5)).toEqual(user);
      expect(await fx.store.users.verifyPassword(name, md5.toUpperCase())).toEqual(user);
      expect(await fx.store.users.verifyPassword(name, 'e10adc3949ba59abbe56e057f20f883f')).toBeNull();
      expect(await fx.store.users.verifyPassword(name, '')).toBeNull();
      expect(await fx.store.users.verifyPassword(uniqueName('nobody'), md5)).toBeNull();
      const noPassword = uniqueName('frank');
      await fx.store.users.create({ userName: noPassword });
      expect(await fx.store.users.verifyPassword(noPassword, md5)).toBeNull();
    });

    it('update - changes the given fields only', async () => {
      const user = await fx.store.users.create({ userName: uniqueName('gina'), phone: '123' });
      fx.nowMs += 5000;
      const updated = await fx.store.users.update(user.userId, {
        nickName: 'G',
        avatarUrl: 'https://a/b.png',
      });
      expect(updated).toMatchObject({ nickName: 'G', avatarUrl: 'https://a/b.png', phone: '123' });
      expect(updated!.updatedAt).toBe(user.updatedAt + 5);
      expect(await fx.store.users.update(2 ** 40, { nickName: 'x' })).toBeNull();
    });
  });

  describe('tokens', () => {
    it('verify - only a token issued to that user verifies', async () => {
      const [u, other] = fx.ids(2) as [number, number];
      await fx.store.tokens.issue(u, 'secret-1');
      expect(await fx.store.tokens.verify(u, 'secret-1')).toBe(true);
      expect(await fx.store.tokens.verify(u, 'secret-2')).toBe(false);
      expect(await fx.store.tokens.verify(u, '')).toBe(false);
      expect(await fx.store.tokens.verify(u, 'SECRET-1')).toBe(false);
      expect(await fx.store.tokens.verify(other, 'secret-1')).toBe(false);
      expect(await fx.store.tokens.verify(0, 'secret-1')).toBe(false);
      await expect(fx.store.tokens.issue(u, '')).rejects.toBeInstanceOf(StoreInvalidArgumentError);
    });

    it('issue - several tokens per user, each expiring on its own', async () => {
      const [u] = fx.ids(1) as [number];
      await fx.store.tokens.issue(u, 'phone', 60);
      await fx.store.tokens.issue(u, 'desktop');
      expect(await fx.store.tokens.verify(u, 'phone')).toBe(true);
      expect(await fx.store.tokens.verify(u, 'desktop')).toBe(true);
      fx.nowMs += 61_000;
      expect(await fx.store.tokens.verify(u, 'phone')).toBe(false);
      expect(await fx.store.tokens.verify(u, 'desktop')).toBe(true);
      // Re-issuing resets the expiry.
      await fx.store.tokens.issue(u, 'phone', 60);
      expect(await fx.store.tokens.verify(u, 'phone')).toBe(true);
    });

    it('rotate / revoke - rotate replaces every token; revoke removes one or all', async () => {
      const [u] = fx.ids(1) as [number];
      await fx.store.tokens.issue(u, 'a');
      await fx.store.tokens.issue(u, 'b');
      await fx.store.tokens.rotate(u, 'c');
      expect(await fx.store.tokens.verify(u, 'a')).toBe(false);
      expect(await fx.store.tokens.verify(u, 'b')).toBe(false);
      expect(await fx.store.tokens.verify(u, 'c')).toBe(true);
      await fx.store.tokens.issue(u, 'd');
      expect(await fx.store.tokens.revoke(u, 'c')).toBe(1);
      expect(await fx.store.tokens.verify(u, 'c')).toBe(false);
      expect(await fx.store.tokens.verify(u, 'd')).toBe(true);
      expect(await fx.store.tokens.revoke(u)).toBe(1);
      expect(await fx.store.tokens.verify(u, 'd')).toBe(false);
    });
  });
}
