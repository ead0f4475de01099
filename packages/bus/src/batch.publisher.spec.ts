import { MqimMetrics } from '@mqim/metrics';
import { BatchPublisher, PublisherBusyError, publishMetrics } from './batch.publisher';
import type { OutgoingMessage } from './message-bus.port';
import { recordingBus } from './testing/recording.bus';

/** Items are strings; a batch body is their JSON array, so each test can read what went together. */
function setup(
  options: Partial<{ windowMs: number; maxItems: number; maxBytes: number; deliverAfterMs: number }> = {},
  answer?: (m: OutgoingMessage) => Promise<string>,
) {
  const { bus, published: messages } = recordingBus(answer);
  const sent = () =>
    messages.map((m) => ({
      topic: m.topic,
      group: m.messageGroup,
      items: JSON.parse(Buffer.from(m.body).toString()) as string[],
    }));
  const counts: number[] = [];
  const batcher = new BatchPublisher<string>(bus, {
    encode: (items) => Buffer.from(JSON.stringify(items)),
    sizeOf: (item) => item.length,
    windowMs: options.windowMs ?? 5,
    maxItems: options.maxItems,
    maxBytes: options.maxBytes,
    deliverAfterMs: options.deliverAfterMs,
    onPublished: (_t, _s, n) => counts.push(n),
  });
  return { batcher, sent, messages, counts };
}

describe('BatchPublisher', () => {
  afterEach(() => jest.useRealTimers());

  it('items for one target within the window travel in one message, in add order', async () => {
    const { batcher, sent, counts } = setup();
    const t = { topic: 'a', messageGroup: 'g1' };
    await Promise.all([batcher.add(t, ['1', '2']), batcher.add(t, ['3']), batcher.add(t, ['4'])]);
    expect(sent()).toEqual([{ topic: 'a', group: 'g1', items: ['1', '2', '3', '4'] }]);
    expect(counts).toEqual([4]);
  });

  it('different topics or message groups never share a message', async () => {
    const { batcher, sent } = setup();
    await Promise.all([
      batcher.add({ topic: 'a', messageGroup: 'g1' }, ['x']),
      batcher.add({ topic: 'a', messageGroup: 'g2' }, ['y']),
      batcher.add({ topic: 'b', messageGroup: 'g1' }, ['z']),
    ]);
    expect(
      sent()
        .map((s) => `${s.topic}/${s.group}:${s.items.join()}`)
        .sort(),
    ).toEqual(['a/g1:x', 'a/g2:y', 'b/g1:z']);
  });

  it('a full batch (maxItems or maxBytes) goes out without waiting for the window', async () => {
    const { batcher, sent } = setup({ windowMs: 60_000, maxItems: 3, maxBytes: 10 });
    const t = { topic: 'a' };
    await batcher.add(t, ['1', '2', '3']); // would hang for a minute if the count bound did nothing
    const ab = Promise.all([batcher.add(t, ['aaaa']), batcher.add(t, ['bbbb'])]);
    const c = batcher.add(t, ['cccc']); // 12 bytes would pass maxBytes: 'aaaa' + 'bbbb' leave first
    await ab;
    // 'cccc' gathered while that batch was in flight: it leaves when the batch is stored, not
    // after the minute-long window.
    await c;
    expect(sent().map((s) => s.items)).toEqual([['1', '2', '3'], ['aaaa', 'bbbb'], ['cccc']]);
  });

  it('one publish in flight per target: what is added meanwhile travels together right after it', async () => {
    const releases: Array<() => void> = [];
    const { batcher, sent } = setup({ windowMs: 0 }, () => new Promise((r) => releases.push(() => r('id'))));
    const t = { topic: 'a', messageGroup: 'g' };
    const first = batcher.add(t, ['1']);
    await until(() => sent().length === 1);
    // Added over several event-loop turns while '1' is still being stored: no second publish yet.
    const rest: Promise<void>[] = [];
    for (const item of ['2', '3', '4']) {
      rest.push(batcher.add(t, [item]));
      await new Promise((r) => setTimeout(r, 2));
    }
    const other = batcher.add({ topic: 'a', messageGroup: 'h' }, ['x']); // another target is not held up
    // 'x' is the barrier: added after '2'-'4', it would have left after them were they not held.
    await until(() => sent().length === 2);
    expect(sent().map((s) => s.items)).toEqual([['1'], ['x']]);
    releases.shift()!();
    await first;
    await until(() => sent().length === 3);
    expect(sent().map((s) => s.items)).toEqual([['1'], ['x'], ['2', '3', '4']]);
    for (const release of releases.splice(0)) release();
    await Promise.all([...rest, other]);
  });

  it('windowMs 0 batches what is added within one macrotask', async () => {
    const { batcher, sent } = setup({ windowMs: 0 });
    const t = { topic: 'a' };
    await Promise.all([batcher.add(t, ['1']), batcher.add(t, ['2'])]);
    await batcher.add(t, ['3']);
    expect(sent().map((s) => s.items)).toEqual([['1', '2'], ['3']]);
  });

  it('a failed publish rejects every caller whose items were in that batch, and only them', async () => {
    let calls = 0;
    const { batcher } = setup({}, async () => {
      calls++;
      if (calls === 1) throw new Error('broker down');
      return 'id';
    });
    const t = { topic: 'a' };
    const first = Promise.allSettled([batcher.add(t, ['1']), batcher.add(t, ['2'])]);
    expect((await first).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await expect(batcher.add(t, ['3'])).resolves.toBeUndefined();
  });

  it('ordered targets - a failed publish also fails what waited behind it, so a prefix is stored', async () => {
    const answers: Array<(ok: boolean) => void> = [];
    const { batcher, sent } = setup(
      { windowMs: 0 },
      () =>
        new Promise((resolve, reject) =>
          answers.push((ok) => (ok ? resolve('id') : reject(new Error('broker down')))),
        ),
    );
    const lane = { topic: 'a', messageGroup: 'lane-1' };
    const unordered = { topic: 'b' };
    const first = batcher.add(lane, ['1']);
    const bFirst = batcher.add(unordered, ['x']);
    await until(() => answers.length === 2);
    // Added while '1' is being stored: they wait behind it.
    const second = batcher.add(lane, ['2']);
    const bSecond = batcher.add(unordered, ['y']);
    await new Promise((r) => setImmediate(r)); // past the macrotask that gathers them (windowMs 0)
    expect(answers).toHaveLength(2); // both wait behind the batch in flight
    answers.shift()!(false); // '1' fails
    answers.shift()!(false); // 'x' fails
    const results = await Promise.allSettled([first, second]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    // The unordered target's later batch still goes.
    await until(() => answers.length === 1);
    answers.shift()!(true);
    await expect(bFirst).rejects.toThrow('broker down');
    await expect(bSecond).resolves.toBeUndefined();
    expect(sent().map((s) => s.items)).toEqual([['1'], ['x'], ['y']]);
    // The lane takes new items again.
    const third = batcher.add(lane, ['3']);
    await until(() => answers.length === 1);
    answers.shift()!(true);
    await expect(third).resolves.toBeUndefined();
  });

  it('streamOf - after a failure its streams are refused until resume(); other streams go on', async () => {
    let fail = true;
    const { bus, published } = recordingBus(async (m) => {
      if (fail && m.messageGroup === 'lane-1') throw new Error('broker down');
      return 'id';
    });
    const batcher = new BatchPublisher<string>(bus, {
      encode: (items) => Buffer.from(JSON.stringify(items)),
      sizeOf: (item) => item.length,
      windowMs: 0,
      streamOf: (item) => item[0]!, // 'a1' belongs to stream 'a'
    });
    const lane = { topic: 't', messageGroup: 'lane-1' };
    await expect(batcher.add(lane, ['a1'])).rejects.toThrow('broker down');
    fail = false;
    // Stream a, added after its failure: refused without a publish, so it cannot overtake 'a1'.
    await expect(batcher.add(lane, ['a2'])).rejects.toThrow('broker down');
    // Another stream on the same lane, and another lane, go on.
    await expect(batcher.add(lane, ['b1'])).resolves.toBeUndefined();
    await expect(batcher.add({ topic: 't', messageGroup: 'lane-2' }, ['a9'])).rejects.toThrow('broker down');
    batcher.resume(['b']); // not the held one
    await expect(batcher.add(lane, ['a3'])).rejects.toThrow('broker down');
    batcher.resume(['a']);
    await expect(batcher.add(lane, ['a1'])).resolves.toBeUndefined();
    expect(published.map((m) => Buffer.from(m.body).toString())).toEqual(['["a1"]', '["b1"]', '["a1"]']);
  });

  it('streamOf - a hold nobody resumes ends after holdMs, not before', async () => {
    // Time is the subject: the hold's clock is jest's (setImmediate stays real, it only ends the window).
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    let fail = true;
    const { bus } = recordingBus(async () => {
      if (fail) throw new Error('broker down');
      return 'id';
    });
    const batcher = new BatchPublisher<string>(bus, {
      encode: (items) => Buffer.from(JSON.stringify(items)),
      sizeOf: (item) => item.length,
      windowMs: 0,
      streamOf: (item) => item[0]!,
      holdMs: 50,
    });
    const lane = { topic: 't', messageGroup: 'lane-1' };
    await expect(batcher.add(lane, ['a1'])).rejects.toThrow('broker down');
    fail = false;
    await expect(batcher.add(lane, ['a2'])).rejects.toThrow('broker down');
    jest.advanceTimersByTime(45);
    await expect(batcher.add(lane, ['a2'])).rejects.toThrow('broker down');
    jest.advanceTimersByTime(10);
    await expect(batcher.add(lane, ['a2'])).resolves.toBeUndefined();
  });

  it('deliverAfterMs stamps each batch with deliverAt = publish time + the delay', async () => {
    const { batcher, messages } = setup({ deliverAfterMs: 5000 });
    const before = Date.now();
    await Promise.all([batcher.add({ topic: 'd' }, ['1']), batcher.add({ topic: 'd' }, ['2'])]);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.deliverAt).toBeGreaterThanOrEqual(before + 5000);
    expect(messages[0]!.deliverAt).toBeLessThanOrEqual(Date.now() + 5000);
  });

  it('flushAll publishes what waits at once', async () => {
    const { batcher, sent } = setup({ windowMs: 60_000 });
    const added = batcher.add({ topic: 'a' }, ['1']);
    await batcher.flushAll();
    await added;
    expect(sent().map((s) => s.items)).toEqual([['1']]);
  });

  it('a batch that cannot be encoded fails its callers only; later items still go, one publish at a time', async () => {
    const { bus, published } = recordingBus();
    let inflight = 0;
    let maxInflight = 0;
    const publish = bus.publish.bind(bus);
    bus.publish = async (m) => {
      maxInflight = Math.max(maxInflight, ++inflight);
      await new Promise((r) => setTimeout(r, 5));
      inflight--;
      return publish(m);
    };
    const batcher = new BatchPublisher<string>(bus, {
      encode: (items) => {
        if (items.includes('bad')) throw new Error('cannot encode');
        return Buffer.from(JSON.stringify(items));
      },
      sizeOf: (item) => item.length,
      windowMs: 60_000,
      maxBytes: 6,
    });
    const t = { topic: 'a' };
    const bad = batcher.add(t, ['bad']);
    const x = batcher.add(t, ['xxxxx']); // past maxBytes: the 'bad' batch is closed and fails to encode
    const y = batcher.add(t, ['yyyyy']);
    await expect(bad).rejects.toThrow('cannot encode');
    await batcher.flushAll();
    await Promise.all([x, y]);
    expect(published.map((m) => JSON.parse(Buffer.from(m.body).toString()) as string[])).toEqual([
      ['xxxxx'],
      ['yyyyy'],
    ]);
    expect(maxInflight).toBe(1);
  });

  it('a throwing onPublished callback does not hold up the callers or the next batch', async () => {
    const { bus } = recordingBus();
    const batcher = new BatchPublisher<string>(bus, {
      encode: (items) => Buffer.from(JSON.stringify(items)),
      sizeOf: (item) => item.length,
      windowMs: 0,
      onPublished: () => {
        throw new Error('metrics broke');
      },
    });
    await batcher.add({ topic: 'a' }, ['1']);
    await batcher.add({ topic: 'a' }, ['2']);
    await batcher.flushAll();
  });

  it('publishMetrics counts each stored batch once, under the topic or the given label', async () => {
    const metrics = new MqimMetrics({ defaultMetrics: false });
    const { bus } = recordingBus();
    const count = async (topic: string) =>
      (await metrics.published.get()).values.find((v) => v.labels.topic === topic)?.value ?? 0;
    const byTopic = new BatchPublisher<string>(bus, {
      encode: (items) => Buffer.from(items.join()),
      sizeOf: (item) => item.length,
      windowMs: 0,
      onPublished: publishMetrics(metrics),
    });
    const labelled = new BatchPublisher<string>(bus, {
      encode: (items) => Buffer.from(items.join()),
      sizeOf: (item) => item.length,
      windowMs: 0,
      onPublished: publishMetrics(metrics, 'gate'),
    });
    await Promise.all([byTopic.add({ topic: 't1' }, ['a']), byTopic.add({ topic: 't1' }, ['b'])]);
    await labelled.add({ topic: 'im-gate-7' }, ['c']);
    expect([await count('t1'), await count('gate'), await count('im-gate-7')]).toEqual([1, 1, 0]);
  });

  it('maxInFlight - targets wait for a shared slot in arrival order; what they gather meanwhile goes together', async () => {
    const { bus, published } = recordingBus(() => new Promise((r) => setTimeout(() => r('id'), 20)));
    const batcher = new BatchPublisher<string>(bus, {
      encode: (items) => Buffer.from(JSON.stringify(items)),
      sizeOf: (item) => item.length,
      windowMs: 0,
      maxInFlight: 1,
    });
    const a = batcher.add({ topic: 't', messageGroup: 'a' }, ['a1']);
    await new Promise((r) => setImmediate(r));
    expect(batcher.inFlight).toBe(1);
    const rest = [
      batcher.add({ topic: 't', messageGroup: 'b' }, ['b1']),
      batcher.add({ topic: 't', messageGroup: 'b' }, ['b2']),
      batcher.add({ topic: 't', messageGroup: 'c' }, ['c1']),
    ];
    await Promise.all([a, ...rest]);
    expect(
      published.map((m) => `${m.messageGroup}:${JSON.parse(Buffer.from(m.body).toString()).join()}`),
    ).toEqual(['a:a1', 'b:b1,b2', 'c:c1']);
  });

  it('maxPending - past the bound add() rejects at once with PublisherBusyError; room comes back once stored', async () => {
    let release!: () => void;
    const { bus } = recordingBus(() => new Promise((r) => (release = () => r('id'))));
    const batcher = new BatchPublisher<string>(bus, {
      encode: (items) => Buffer.from(JSON.stringify(items)),
      sizeOf: (item) => item.length,
      windowMs: 0,
      maxPending: 2,
    });
    const first = batcher.add({ topic: 't' }, ['1', '2']);
    await expect(batcher.add({ topic: 't' }, ['3'])).rejects.toBeInstanceOf(PublisherBusyError);
    await expect(batcher.add({ topic: 't' }, ['3'])).rejects.toMatchObject({ code: 'IM_ERR_BUSY' });
    await new Promise((r) => setImmediate(r));
    release();
    await first;
    expect(batcher.pending).toBe(0);
    const later = batcher.add({ topic: 't' }, ['3']);
    await new Promise((r) => setImmediate(r));
    release();
    await expect(later).resolves.toBeUndefined();
  });

  it('minIntervalMs - under load one target publishes at most once per interval; an idle target goes at once', async () => {
    // Time is the subject: the pacing clock is jest's (setImmediate stays real, it only ends the window).
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    const { bus, published } = recordingBus(async () => 'id');
    const batcher = new BatchPublisher<string>(bus, {
      encode: (items) => Buffer.from(JSON.stringify(items)),
      sizeOf: (item) => item.length,
      windowMs: 0,
      minIntervalMs: 50,
    });
    const bodies = () => published.map((m) => JSON.parse(Buffer.from(m.body).toString()).join());
    await batcher.add({ topic: 't' }, ['1']); // resolves with the clock standing still: no wait
    const during = [batcher.add({ topic: 't' }, ['2']), batcher.add({ topic: 't' }, ['3'])];
    await jest.advanceTimersByTimeAsync(49);
    expect(bodies()).toEqual(['1']);
    await jest.advanceTimersByTimeAsync(1);
    await Promise.all(during);
    expect(bodies()).toEqual(['1', '2,3']);
  });
});

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}
