import { sql } from 'kysely';
import type { SessionType } from '../message.port';
import type {
  NewScheduledMessage,
  ScheduleRepository,
  ScheduleStatus,
  ScheduledMessage,
} from '../schedule.port';
import { assertId, assertUint, readId, readInt } from '../internal/ids';
import type { StoreContext } from '../internal/store-context';
import { StoreInvalidArgumentError } from '../store.errors';
import { MAX_MSG_DATA_BYTES, assertSessionType } from './message.validation';

const STATUS: readonly ScheduleStatus[] = ['pending', 'firing', 'sent', 'cancelled', 'failed'];
const code = (s: ScheduleStatus): number => STATUS.indexOf(s);

function assertLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new StoreInvalidArgumentError('limit must be 1..1000');
  return limit;
}

const REQUEST_KEY = /^[\x21-\x7e]{1,64}$/;

function assertRequestKey(key: string | undefined): string | null {
  if (key === undefined || key === '') return null;
  if (typeof key !== 'string' || !REQUEST_KEY.test(key))
    throw new StoreInvalidArgumentError('requestKey must be 1..64 printable ASCII characters');
  return key;
}

function assertMs(ms: number, what: string): number {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new StoreInvalidArgumentError(`${what} must be unix ms`);
  return ms;
}

type Row = {
  schedule_id: unknown;
  user_id: unknown;
  session_type: unknown;
  to_session_id: unknown;
  msg_type: unknown;
  msg_data: Buffer;
  system_sender: unknown;
  created_by_api: unknown;
  request_key: string | null;
  send_at_ms: unknown;
  status: unknown;
  version: unknown;
  armed_version: unknown;
  server_msg_id: unknown;
  error: string;
  created_at_ms: unknown;
  updated_at_ms: unknown;
};

function toRecord(r: Row): ScheduledMessage {
  return {
    scheduleId: readId(r.schedule_id, 'schedule_id'),
    userId: readId(r.user_id, 'user_id'),
    sessionType: readInt(r.session_type, 'session_type') as SessionType,
    toSessionId: readId(r.to_session_id, 'to_session_id'),
    msgType: readInt(r.msg_type, 'msg_type'),
    msgData: new Uint8Array(r.msg_data),
    systemSender: readInt(r.system_sender, 'system_sender') === 1,
    createdByApi: readInt(r.created_by_api, 'created_by_api') === 1,
    requestKey: r.request_key ?? '',
    sendAtMs: readInt(r.send_at_ms, 'send_at_ms'),
    status: STATUS[readInt(r.status, 'status')] ?? 'failed',
    version: readInt(r.version, 'version'),
    armedVersion: readInt(r.armed_version, 'armed_version'),
    serverMsgId: readInt(r.server_msg_id, 'server_msg_id'),
    error: r.error,
    createdAtMs: readInt(r.created_at_ms, 'created_at_ms'),
    updatedAtMs: readInt(r.updated_at_ms, 'updated_at_ms'),
  };
}

export class KyselyScheduleRepository implements ScheduleRepository {
  constructor(private readonly ctx: StoreContext) {}

  async create(m: NewScheduledMessage): Promise<ScheduledMessage> {
    if (!(m.msgData instanceof Uint8Array) || m.msgData.byteLength > MAX_MSG_DATA_BYTES)
      throw new StoreInvalidArgumentError(`msgData must be at most ${MAX_MSG_DATA_BYTES} bytes`);
    const requestKey = assertRequestKey(m.requestKey);
    if (requestKey !== null) {
      const existing = await this.byRequestKey(m.userId, requestKey);
      if (existing) return existing;
    }
    const now = this.ctx.now();
    const insert = this.ctx.db
      .insertInto('im_scheduled_message')
      .values({
        user_id: assertId(m.userId, 'userId'),
        session_type: assertSessionType(m.sessionType),
        to_session_id: assertId(m.toSessionId, 'toSessionId'),
        msg_type: assertUint(m.msgType, 0xffff, 'msgType'),
        msg_data: Buffer.from(m.msgData),
        system_sender: m.systemSender ? 1 : 0,
        created_by_api: m.createdByApi ? 1 : 0,
        request_key: requestKey,
        send_at_ms: assertMs(m.sendAtMs, 'sendAtMs'),
        status: 0,
        version: 1,
        armed_version: 0,
        server_msg_id: 0,
        error: '',
        created_at_ms: now,
        updated_at_ms: now,
      })
      .executeTakeFirst();
    let result: Awaited<typeof insert>;
    try {
      result = await insert;
    } catch (err) {
      // The same request, at the same moment (a redelivery on another logic process): its row.
      const first =
        requestKey !== null && this.ctx.sql.isUniqueViolation(err)
          ? await this.byRequestKey(m.userId, requestKey)
          : null;
      if (first) return first;
      throw err;
    }
    return (await this.get(readId(result.insertId, 'schedule_id')))!;
  }

  async byRequestKey(userId: number, requestKey: string): Promise<ScheduledMessage | null> {
    const key = assertRequestKey(requestKey);
    if (key === null) return null;
    const row = await this.ctx.db
      .selectFrom('im_scheduled_message')
      .selectAll()
      .where('user_id', '=', assertId(userId, 'userId'))
      .where('request_key', '=', key)
      .executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  async get(scheduleId: number): Promise<ScheduledMessage | null> {
    const row = await this.ctx.db
      .selectFrom('im_scheduled_message')
      .selectAll()
      .where('schedule_id', '=', assertId(scheduleId, 'scheduleId'))
      .executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  async pendingOf(userId: number, limit: number): Promise<ScheduledMessage[]> {
    const rows = await this.ctx.db
      .selectFrom('im_scheduled_message')
      .selectAll()
      .where('user_id', '=', assertId(userId, 'userId'))
      .where('status', '=', code('pending'))
      .orderBy('send_at_ms')
      .orderBy('schedule_id')
      .limit(assertLimit(limit))
      .execute();
    return rows.map(toRecord);
  }

  async countPending(userId: number): Promise<number> {
    const row = await this.ctx.db
      .selectFrom('im_scheduled_message')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('user_id', '=', assertId(userId, 'userId'))
      .where('status', '=', code('pending'))
      .executeTakeFirst();
    return readInt(row?.n ?? 0, 'count');
  }

  async cancel(scheduleId: number, userId: number): Promise<'done' | 'not_found' | 'too_late'> {
    const r = await this.ctx.db
      .updateTable('im_scheduled_message')
      .set({ status: code('cancelled'), updated_at_ms: this.ctx.now() })
      .where('schedule_id', '=', assertId(scheduleId, 'scheduleId'))
      .where('user_id', '=', assertId(userId, 'userId'))
      .where('status', '=', code('pending'))
      .executeTakeFirst();
    if (r.numUpdatedRows > 0n) return 'done';
    const row = await this.get(scheduleId);
    return !row || row.userId !== userId ? 'not_found' : row.status === 'cancelled' ? 'done' : 'too_late';
  }

  async reschedule(
    scheduleId: number,
    userId: number,
    sendAtMs: number,
  ): Promise<ScheduledMessage | 'not_found' | 'too_late'> {
    const r = await this.ctx.db
      .updateTable('im_scheduled_message')
      .set({
        send_at_ms: assertMs(sendAtMs, 'sendAtMs'),
        version: sql`version + 1`,
        updated_at_ms: this.ctx.now(),
      })
      .where('schedule_id', '=', assertId(scheduleId, 'scheduleId'))
      .where('user_id', '=', assertId(userId, 'userId'))
      .where('status', '=', code('pending'))
      .executeTakeFirst();
    const row = await this.get(scheduleId);
    if (r.numUpdatedRows > 0n) return row!;
    return !row || row.userId !== userId ? 'not_found' : 'too_late';
  }

  async toArm(untilMs: number, limit: number): Promise<ScheduledMessage[]> {
    const rows = await this.ctx.db
      .selectFrom('im_scheduled_message')
      .selectAll()
      .where('status', '=', code('pending'))
      .where('send_at_ms', '<=', assertMs(untilMs, 'untilMs'))
      .whereRef('armed_version', '<>', 'version')
      .orderBy('send_at_ms')
      .limit(assertLimit(limit))
      .execute();
    return rows.map(toRecord);
  }

  async markArmed(scheduleId: number, version: number): Promise<boolean> {
    const r = await this.ctx.db
      .updateTable('im_scheduled_message')
      .set({ armed_version: version })
      .where('schedule_id', '=', assertId(scheduleId, 'scheduleId'))
      .where('version', '=', version)
      .where('armed_version', '<>', version)
      .where('status', '=', code('pending'))
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async overdue(beforeMs: number, limit: number): Promise<ScheduledMessage[]> {
    const rows = await this.ctx.db
      .selectFrom('im_scheduled_message')
      .selectAll()
      .where('status', 'in', [code('pending'), code('firing')])
      .where('send_at_ms', '<', assertMs(beforeMs, 'beforeMs'))
      .where('updated_at_ms', '<', beforeMs)
      .orderBy('send_at_ms')
      .limit(assertLimit(limit))
      .execute();
    return rows.map(toRecord);
  }

  async touch(scheduleId: number): Promise<void> {
    await this.ctx.db
      .updateTable('im_scheduled_message')
      .set({ updated_at_ms: this.ctx.now() })
      .where('schedule_id', '=', assertId(scheduleId, 'scheduleId'))
      .execute();
  }

  async claim(scheduleId: number, version: number): Promise<boolean> {
    const r = await this.ctx.db
      .updateTable('im_scheduled_message')
      .set({ status: code('firing'), updated_at_ms: this.ctx.now() })
      .where('schedule_id', '=', assertId(scheduleId, 'scheduleId'))
      .where('version', '=', version)
      .where('status', 'in', [code('pending'), code('firing')])
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async finish(
    scheduleId: number,
    version: number,
    outcome: { serverMsgId: number } | { error: string },
  ): Promise<void> {
    const sent = 'serverMsgId' in outcome;
    await this.ctx.db
      .updateTable('im_scheduled_message')
      .set({
        status: code(sent ? 'sent' : 'failed'),
        server_msg_id: sent ? assertId(outcome.serverMsgId, 'serverMsgId') : 0,
        error: sent ? '' : outcome.error.slice(0, 128),
        updated_at_ms: this.ctx.now(),
      })
      .where('schedule_id', '=', assertId(scheduleId, 'scheduleId'))
      .where('version', '=', version)
      .where('status', '=', code('firing'))
      .execute();
  }
}
