import { MqimMetrics } from '@mqim/metrics';
import { recordingBus } from '@mqim/bus/testing';
import { CommandId, MqNames, mqim } from '@mqim/protocol';
import { GatePublisher } from './gate.publisher';

describe('GatePublisher', () => {
  const names = new MqNames('gp');
  const metrics = new MqimMetrics({ defaultMetrics: false });

  it('commands for one gate share a GateBatch on its topic, in order, tagged by the sender', async () => {
    const { bus, published } = recordingBus();
    const gates = new GatePublisher(bus, names, metrics, { windowMs: 5, tag: 'reply' });
    await Promise.all([
      gates.send('g1', [{ connId: 'a', cmd: 1 }]),
      gates.send('g2', [{ connId: 'b', cmd: 2 }]),
      gates.send('g1', [{ connId: 'c', cmd: 3 }]),
    ]);
    const byTopic = new Map(published.map((m) => [m.topic, m]));
    expect(byTopic.get(names.gate('g1'))).toMatchObject({ messageGroup: 'g1', tag: 'reply' });
    const g1 = mqim.v1.GateBatch.decode(byTopic.get(names.gate('g1'))!.body).commands;
    expect(g1.map((c) => c.connId)).toEqual(['a', 'c']);
    expect(published).toHaveLength(2);
  });

  it('size bound - the gate command size estimate keeps every message under maxBytes', async () => {
    const { bus, published } = recordingBus();
    const gates = new GatePublisher(bus, names, metrics, { windowMs: 5, tag: 'deliver', maxBytes: 100_000 });
    const big = { userIds: [2, 3, 4], cmd: CommandId.MSG_DATA, body: Buffer.alloc(40_000) };
    await Promise.all([1, 2, 3, 4, 5].map(() => gates.send('g1', [big])));
    expect(published.map((m) => mqim.v1.GateBatch.decode(m.body).commands.length)).toEqual([2, 2, 1]);
    expect(Math.max(...published.map((m) => m.body.length))).toBeLessThan(100_000);
  });
});
