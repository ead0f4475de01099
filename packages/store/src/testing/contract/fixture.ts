import type { NewMessage, SessionType, Store } from '../../index';

/** What each contract section gets: the store under test and a few generators. */
export interface ContractFixture {
  /** The store under test; replaced when a test reopens it. */
  store: Store;
  /** `n` user ids nobody else in this suite uses. */
  ids(n: number): number[];
  /** A client_msg_id nobody else in this suite uses. */
  clientId(): string;
  /** Unix ms the store's clock returns; tests may move it. */
  nowMs: number;
  /** Closes and reopens the store on the same database; undefined when the target cannot. */
  reopen: (() => Promise<void>) | undefined;
  /** Raw access to the password columns; undefined when the target gives none. */
  rawPasswords:
    | {
        read(userId: number): Promise<{ md5: string | null; hash: string | null }>;
        writeLegacyMd5(userId: number, md5: string): Promise<void>;
      }
    | undefined;
}

export function textMessage(
  fx: ContractFixture,
  m: {
    from: number;
    to: number;
    id: number;
    type?: SessionType;
    clientMsgId?: string;
    text?: string;
    createTime?: number;
  },
): NewMessage {
  return {
    serverMsgId: m.id,
    clientMsgId: m.clientMsgId ?? fx.clientId(),
    fromUserId: m.from,
    sessionType: m.type ?? 1,
    toSessionId: m.to,
    msgType: 1,
    msgData: Buffer.from(m.text ?? `message ${m.id}`),
    attach: '{"k":1}',
    senderClientType: 1,
    msgStatus: 5,
    createTime: m.createTime ?? 1_700_000_000 + m.id,
  };
}
