import { mqim } from './generated/proto';
import { decodePersisted } from './persisted';

describe('decodePersisted', () => {
  const record = {
    serverMsgId: 7,
    clientMsgId: 'c-7',
    fromUserId: 1,
    sessionType: 1,
    toSessionId: 2,
    msgDataSize: 5,
  };

  it('reads every record of a batch, in order', () => {
    const body = mqim.v1.PersistedMessageBatch.encode({
      messages: [record, { ...record, serverMsgId: 8, clientMsgId: 'c-8' }],
    }).finish();
    expect(decodePersisted(body).map((m) => m.clientMsgId)).toEqual(['c-7', 'c-8']);
  });

  it('reads a single PersistedMessage published by an older logic as one record', () => {
    const body = mqim.v1.PersistedMessage.encode(record).finish();
    const [m, ...rest] = decodePersisted(body);
    expect(rest).toHaveLength(0);
    expect([m!.clientMsgId, Number(m!.serverMsgId), m!.msgDataSize]).toEqual(['c-7', 7, 5]);
  });
});
