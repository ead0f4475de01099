import { parseOffsetTable } from './rocketmq.admin';

describe('ConsumeStats - offset table keyed by MessageQueue objects (fastjson)', () => {
  it('parse - every queue with its offsets, sorted by queue id; no table is no queues', () => {
    const body =
      '{"consumeTps":0.0,"offsetTable":{{"brokerName":"broker-a","queueId":1,"topic":"t"}:' +
      '{"brokerOffset":9,"consumerOffset":4,"lastTimestamp":1700000000000,"pullOffset":4},' +
      '{"brokerName":"broker-a","queueId":0,"topic":"t"}:{"brokerOffset":3,"consumerOffset":3,"lastTimestamp":0,"pullOffset":0}}}';
    expect(parseOffsetTable(body)).toEqual([
      {
        topic: 't',
        brokerName: 'broker-a',
        queueId: 0,
        brokerOffset: 3,
        consumerOffset: 3,
        lastTimestamp: 0,
      },
      {
        topic: 't',
        brokerName: 'broker-a',
        queueId: 1,
        brokerOffset: 9,
        consumerOffset: 4,
        lastTimestamp: 1_700_000_000_000,
      },
    ]);
    expect(parseOffsetTable('{"consumeTps":0.0,"offsetTable":{}}')).toEqual([]);
    expect(parseOffsetTable('')).toEqual([]);
  });
});
