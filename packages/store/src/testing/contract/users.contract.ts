import { randomBytes } from 'node:crypto';
import {
  MAX_EXPLICIT_USER_ID,
  StoreInvalidArgumentError,
  UserAlreadyExistsError,
  tokenIdOf,
} from '../../index';
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

    it('create - a taken user name fails with UserAlreadyExistsError; case is ignored', async () => {
      const name = uniqueName('Carol');
      await fx.store.users.create({ userName: name });
      const err = await fx.store.users.create({ userName: name }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserAlreadyExistsError);
      expect((err as UserAlreadyExistsError).code).toBe('IM_ERR_USER_EXISTS');
      // "Carol-…" and "carol-…" are one name (issue 10): two accounts must not look alike.
      await expect(fx.store.users.create({ userName: name.toLowerCase() })).rejects.toBeInstanceOf(
        UserAlreadyExistsError,
      );
      await expect(fx.store.users.create({ userName: name.toUpperCase() })).rejects.toBeInstanceOf(
        UserAlreadyExistsError,
      );
      expect(await fx.store.users.findByName(name.toUpperCase())).toMatchObject({ userName: name });
      // Several users without a name are fine (NULL is not a duplicate).
      await fx.store.users.create({});
      await fx.store.users.create({});
    });

    it('create - an explicit id above MAX_EXPLICIT_USER_ID is refused and cannot poison the allocator', async () => {
      for (const id of [Number.MAX_SAFE_INTEGER, 2 ** 53 - 2, MAX_EXPLICIT_USER_ID + 1, 0, 1.5]) {
        await expect(fx.store.users.create({ userId: id, nickName: 'x' })).rejects.toBeInstanceOf(
          StoreInvalidArgumentError,
        );
      }
      // The highest allowed id pushes the auto-increment counter to 2^31 at most: far from 2^53.
      await fx.store.users.create({ userId: MAX_EXPLICIT_USER_ID, nickName: 'top' }).catch((e: unknown) => {
        if (!(e instanceof UserAlreadyExistsError)) throw e;
      });
      const next = await fx.store.users.create({ userName: uniqueName('after') });
      expect(Number.isSafeInteger(next.userId)).toBe(true);
      expect(await fx.store.users.findById(next.userId)).toEqual(next);
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
      // The name is looked up ignoring case, like its uniqueness.
      expect(await fx.store.users.verifyPassword(name.toUpperCase(), md5)).toEqual(user);
    });

    it('verifyPassword - the password is at rest as a salted scrypt hash, never the MD5 given', async () => {
      const raw = fx.rawPasswords;
      if (!raw) return;
      const a = await fx.store.users.create({ userName: uniqueName('hana'), passwordMd5: md5 });
      const b = await fx.store.users.create({ userName: uniqueName('ivan'), passwordMd5: md5 });
      const [ra, rb] = [await raw.read(a.userId), await raw.read(b.userId)];
      expect(ra.md5).toBeNull();
      expect(ra.hash).toMatch(/^scrypt\$\d+\$\d+\$\d+\$[\w-]+\$[\w-]+$/);
      expect(ra.hash).not.toContain(md5);
      expect(rb.hash).not.toBe(ra.hash); // salted
      const other = 'c4ca4238a0b923820dcc509a6f75849b';
      await fx.store.users.update(a.userId, { passwordMd5: other });
      const changed = await raw.read(a.userId);
      expect(changed.md5).toBeNull();
      expect(changed.hash).not.toBe(ra.hash);
      expect(await fx.store.users.verifyPassword(a.userName!, md5)).toBeNull();
      expect(await fx.store.users.verifyPassword(a.userName!, other)).toMatchObject({ userId: a.userId });
    });

    it('verifyPassword - a row holding the bare MD5 (before hashing) is upgraded at its next login', async () => {
      const raw = fx.rawPasswords;
      if (!raw) return;
      const user = await fx.store.users.create({ userName: uniqueName('jack') });
      await raw.writeLegacyMd5(user.userId, md5);
      expect(
        await fx.store.users.verifyPassword(user.userName!, 'e10adc3949ba59abbe56e057f20f883f'),
      ).toBeNull();
      expect(await raw.read(user.userId)).toEqual({ md5, hash: null }); // a wrong guess changes nothing
      expect(await fx.store.users.verifyPassword(user.userName!, md5)).toEqual(user);
      const after = await raw.read(user.userId);
      expect(after.md5).toBeNull();
      expect(after.hash).toMatch(/^scrypt\$/);
      expect(await fx.store.users.verifyPassword(user.userName!, md5)).toEqual(user);
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

    it('token ids - liveIds names the tokens that verify; revokeById removes exactly that one', async () => {
      const [u, other] = fx.ids(2) as [number, number];
      await fx.store.tokens.issue(u, 'phone', 60);
      await fx.store.tokens.issue(u, 'desktop');
      await fx.store.tokens.issue(other, 'phone');
      expect((await fx.store.tokens.liveIds(u)).sort()).toEqual(
        [tokenIdOf('phone'), tokenIdOf('desktop')].sort(),
      );
      expect(tokenIdOf('phone')).toMatch(/^[0-9a-f]{16}$/);
      // Another user's identical token is another row: revoking u's leaves it.
      expect(await fx.store.tokens.revokeById(u, tokenIdOf('phone'))).toBe(1);
      expect(await fx.store.tokens.revokeById(u, tokenIdOf('phone'))).toBe(0);
      expect(await fx.store.tokens.verify(u, 'phone')).toBe(false);
      expect(await fx.store.tokens.verify(u, 'desktop')).toBe(true);
      expect(await fx.store.tokens.verify(other, 'phone')).toBe(true);
      await expect(fx.store.tokens.revokeById(u, 'not-an-id')).rejects.toBeInstanceOf(
        StoreInvalidArgumentError,
      );
      // An expired token is not live, though its row may still be there.
      await fx.store.tokens.issue(u, 'short', 60);
      fx.nowMs += 61_000;
      expect(await fx.store.tokens.liveIds(u)).toEqual([tokenIdOf('desktop')]);
      await fx.store.tokens.rotate(u, 'fresh');
      expect(await fx.store.tokens.liveIds(u)).toEqual([tokenIdOf('fresh')]);
      expect(await fx.store.tokens.liveIds(fx.ids(1)[0]!)).toEqual([]);
    });
  });
}
