import { MemoryBus } from '@mqim/bus';
import { GatePublisher } from '@mqim/delivery';
import type { Logger } from '@mqim/config';
import { MqimMetrics } from '@mqim/metrics';
import { CIM, CommandId, MqNames, decodeUpstream, mqim } from '@mqim/protocol';
import { UpstreamClient, UpstreamRefusedError, UpstreamTimeoutError } from './upstream.client';

const names = new MqNames('uc');
const metrics = new MqimMetrics({ defaultMetrics: false });
const errors: string[] = [];
const logger = { error: (_o: unknown, msg: string) => errors.push(msg) } as unknown as Logger;

/**
 * A stand-in for logic on the in-process bus: takes requests from `im-upstream` and answers each
 * with what `answer` returns, on the requester's gate topic, as logic's replier does.
 */
async function fakeLogic(
  bus: MemoryBus,
  answer: (r: mqim.v1.UpstreamRequest) => mqim.v1.IGateCommand[],
): Promise<mqim.v1.UpstreamRequest[]> {
  const seen: mqim.v1.UpstreamRequest[] = [];
  const replier = new GatePublisher(bus, names, metrics, { windowMs: 0, tag: 'reply' });
  await bus.subscribeBatch({ topic: names.upstream, group: names.logicGroup }, async (messages) => {
    for (const m of messages)
      for (const { request } of decodeUpstream(m.body, m.tag, m.messageGroup)) {
        seen.push(request);
        const commands = answer(request);
        if (commands.length) await replier.send(request.gateId, commands);
      }
  });
  return seen;
}

const ack = (r: mqim.v1.UpstreamRequest, resCode: number) => ({
  connId: r.connId,
  cmd: CommandId.MSG_DATA_ACK,
  seq: r.seq,
  body: CIM.Message.CIMMsgDataAck.encode({ serverMsgId: 7, resCode, clientMsgId: 'c' }).finish(),
});

describe('upstream client - the api asks logic like a gate and takes the answer off its own topic', () => {
  let bus: MemoryBus;
  let client: UpstreamClient;
  beforeEach(async () => {
    bus = new MemoryBus();
    await bus.ensureTopics(names.sharedTopics());
    await bus.ensureGroups(names.sharedGroups());
    client = new UpstreamClient(bus, names, metrics, logger, {
      endpointId: 'api-t',
      lanes: 4,
      timeoutMs: 300,
    });
    await client.start();
  });
  afterEach(async () => {
    await client.stop();
    await bus.close();
  });

  it('upstream client - a send travels as the chosen user in its conversation order key and resolves on the OK ack', async () => {
    const seen = await fakeLogic(bus, (r) => [ack(r, CIM.Def.CIMResCode.RES_CODE_OK)]);
    const got = await client.sendMessage(
      3,
      { toSessionId: 4, clientMsgId: 'c', msgData: Buffer.from('x') },
      's:3:4',
      true,
      true,
    );
    expect(Number(got.serverMsgId)).toBe(7);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      gateId: 'api-t',
      cmd: CommandId.MSG_DATA,
      orderKey: 's:3:4',
      systemSender: true,
      // The business server's own send is marked as the api's (logic trusts it with msg_type 9, ADR 0015).
      apiSender: true,
    });
    expect(Number(seen[0]!.userId)).toBe(3);
  });

  it("upstream client - a send made for a client (its scheduled message) is not marked as the api's", async () => {
    const seen = await fakeLogic(bus, (r) => [ack(r, CIM.Def.CIMResCode.RES_CODE_OK)]);
    await client.sendMessage(3, { toSessionId: 4, clientMsgId: 'c' }, 's:3:4', false, false);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.apiSender).toBe(false);
  });

  it("upstream client - a refused send waits past the non-OK ack for logic's error notice and rejects with its code", async () => {
    await fakeLogic(bus, (r) => [
      ack(r, CIM.Def.CIMResCode.RES_CODE_UNKNOWN),
      {
        connId: r.connId,
        cmd: CommandId.ERROR_NOTIFY,
        body: CIM.Ext.MqimErrorNotify.encode({
          errorName: 'IM_ERR_FORBIDDEN',
          text: 'only members',
        }).finish(),
      },
    ]);
    const sent = client.sendMessage(3, { toSessionId: 9, clientMsgId: 'c' }, 'g:9', false, true);
    await expect(sent).rejects.toBeInstanceOf(UpstreamRefusedError);
    await expect(sent).rejects.toMatchObject({ code: 'IM_ERR_FORBIDDEN', message: 'only members' });
  });

  it('upstream client - no answer is a timeout; answers of other requests and undecodable batches settle nothing', async () => {
    await fakeLogic(bus, (r) => [{ ...ack(r, CIM.Def.CIMResCode.RES_CODE_OK), connId: `${r.connId}-other` }]);
    await bus.publish({
      topic: names.gate('api-t'),
      body: Buffer.from([0xff, 0xff, 0xff]),
      messageGroup: 'api-t',
    });
    const started = Date.now();
    await expect(
      client.sendMessage(3, { toSessionId: 4, clientMsgId: 'c' }, 's:3:4', false, true),
    ).rejects.toBeInstanceOf(UpstreamTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(errors).toContain('undecodable answer batch dropped');
  });
});
