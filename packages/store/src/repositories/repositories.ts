import type { StoreContext } from '../internal/store-context';
import type { Store } from '../store.port';
import { KyselyContactRepository } from './contact.repository';
import { KyselyBotRepository } from './bot.repository';
import { KyselyScheduleRepository } from './schedule.repository';
import { KyselyGroupRepository } from './group.repository';
import { KyselyMessageRepository, type SaveExecutor } from './message.repository';
import { KyselyDeviceRepository, KyselyMuteRepository } from './push.repository';
import { KyselyReceiptRepository } from './receipt.repository';
import { KyselySessionRepository } from './session.repository';
import { KyselyTokenRepository } from './token.repository';
import { KyselyUserRepository } from './user.repository';

export type Repositories = Pick<
  Store,
  | 'users'
  | 'tokens'
  | 'messages'
  | 'sessions'
  | 'receipts'
  | 'groups'
  | 'devices'
  | 'mutes'
  | 'bots'
  | 'schedules'
  | 'contacts'
>;

/** The dialect-neutral repositories; only how a message save is executed varies per store. */
export function createRepositories(ctx: StoreContext, executeSave: SaveExecutor): Repositories {
  return {
    users: new KyselyUserRepository(ctx),
    tokens: new KyselyTokenRepository(ctx),
    messages: new KyselyMessageRepository(ctx, executeSave),
    sessions: new KyselySessionRepository(ctx),
    receipts: new KyselyReceiptRepository(ctx),
    groups: new KyselyGroupRepository(ctx),
    devices: new KyselyDeviceRepository(ctx),
    mutes: new KyselyMuteRepository(ctx),
    contacts: new KyselyContactRepository(ctx),
    bots: new KyselyBotRepository(ctx),
    schedules: new KyselyScheduleRepository(ctx),
  };
}
