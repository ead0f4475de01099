import { PUSH_PLATFORMS } from '@mqim/protocol';
import { sql } from 'kysely';
import { assertId, assertUint, readInt, readId } from '../internal/ids';
import { nowSeconds, type StoreContext } from '../internal/store-context';
import type { SessionType } from '../message.port';
import type {
  DeviceRepository,
  MuteRepository,
  PushDevice,
  PushDeviceRecord,
  PushPlatform,
} from '../push.port';
import { StoreInvalidArgumentError } from '../store.errors';
import { assertSessionType } from './message.validation';
import { uniqueIds } from './user.repository';

const PLATFORMS: readonly PushPlatform[] = PUSH_PLATFORMS;
const DEVICE_TOKEN = /^[\x20-\x7e]{1,512}$/;

export class KyselyDeviceRepository implements DeviceRepository {
  constructor(private readonly ctx: StoreContext) {}

  async register(device: PushDevice): Promise<void> {
    const d = this.ctx.sql;
    await this.ctx.db
      .insertInto('im_push_device')
      .values({
        user_id: assertId(device.userId, 'userId'),
        platform: assertPlatform(device.platform),
        device_token: assertDeviceToken(device.token),
        client_type: assertUint(device.clientType, 0xffff, 'clientType'),
        updated_at: nowSeconds(this.ctx),
      })
      .modifyEnd(
        d.upsert(
          ['user_id', 'platform', 'device_token'],
          [
            ['client_type', d.incoming('client_type')],
            ['updated_at', d.incoming('updated_at')],
          ],
        ),
      )
      .execute();
  }

  async list(userIds: readonly number[]): Promise<PushDeviceRecord[]> {
    const ids = uniqueIds(userIds, 'userIds');
    if (ids.length === 0) return [];
    const rows = await this.ctx.db
      .selectFrom('im_push_device')
      .selectAll()
      .where('user_id', 'in', ids)
      .orderBy('user_id')
      .orderBy('platform')
      .orderBy('device_token')
      .execute();
    return rows.map((r) => ({
      userId: readId(r.user_id, 'user_id'),
      platform: assertPlatform(r.platform),
      token: r.device_token,
      clientType: readInt(r.client_type, 'client_type'),
      updatedAt: readInt(r.updated_at, 'updated_at'),
    }));
  }

  async remove(userId: number, platform: PushPlatform, token: string): Promise<boolean> {
    const result = await this.ctx.db
      .deleteFrom('im_push_device')
      .where('user_id', '=', assertId(userId, 'userId'))
      .where('platform', '=', assertPlatform(platform))
      .where('device_token', '=', assertDeviceToken(token))
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}

export class KyselyMuteRepository implements MuteRepository {
  constructor(private readonly ctx: StoreContext) {}

  async set(ownerUserId: number, sessionType: SessionType, sessionId: number, muted: boolean): Promise<void> {
    assertId(ownerUserId, 'ownerUserId');
    assertSessionType(sessionType);
    assertId(sessionId, 'sessionId');
    if (!muted) {
      await this.ctx.db
        .deleteFrom('im_session_mute')
        .where('owner_user_id', '=', ownerUserId)
        .where('session_type', '=', sessionType)
        .where('session_id', '=', sessionId)
        .execute();
      return;
    }
    await this.ctx.db
      .insertInto('im_session_mute')
      .values({
        owner_user_id: ownerUserId,
        session_type: sessionType,
        session_id: sessionId,
        created_at: nowSeconds(this.ctx),
      })
      // Already muted: keep the original time (a no-op update, portable "do nothing").
      .modifyEnd(
        this.ctx.sql.upsert(
          ['owner_user_id', 'session_type', 'session_id'],
          [['created_at', sql.ref('created_at')]],
        ),
      )
      .execute();
  }

  async isMuted(ownerUserId: number, sessionType: SessionType, sessionId: number): Promise<boolean> {
    return (await this.mutedAmong(sessionType, sessionId, [ownerUserId])).length > 0;
  }

  async mutedAmong(
    sessionType: SessionType,
    sessionId: number,
    ownerIds: readonly number[],
  ): Promise<number[]> {
    assertSessionType(sessionType);
    assertId(sessionId, 'sessionId');
    const ids = uniqueIds(ownerIds, 'ownerIds');
    if (ids.length === 0) return [];
    const rows = await this.ctx.db
      .selectFrom('im_session_mute')
      .select('owner_user_id')
      .where('session_type', '=', sessionType)
      .where('session_id', '=', sessionId)
      .where('owner_user_id', 'in', ids)
      .orderBy('owner_user_id')
      .execute();
    return rows.map((r) => readId(r.owner_user_id, 'owner_user_id'));
  }
}

function assertPlatform(value: string): PushPlatform {
  if (!(PLATFORMS as readonly string[]).includes(value)) {
    throw new StoreInvalidArgumentError(`platform must be one of ${PLATFORMS.join(', ')}`);
  }
  return value as PushPlatform;
}

function assertDeviceToken(value: string): string {
  if (typeof value !== 'string' || !DEVICE_TOKEN.test(value)) {
    throw new StoreInvalidArgumentError('device token must be 1-512 printable ASCII characters');
  }
  return value;
}
