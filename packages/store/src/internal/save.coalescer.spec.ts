import type { SaveResult } from '../message.port';
import type { ValidSave } from '../repositories/message.validation';
import { StoreUnavailableError } from '../store.errors';
import { SaveCoalescer } from './save.coalescer';

const save = (n: number, owners = 2): ValidSave =>
  ({ clientMsgId: `c${n}`, owners: Array.from({ length: owners }, (_, i) => i + 1) }) as unknown as ValidSave;

describe('SaveCoalescer', () => {
  it('group commit - calls from one tick share one batch, results map back in order', async () => {
    const batches: string[][] = [];
    const coalescer = new SaveCoalescer(async (saves) => {
      batches.push(saves.map((s) => s.clientMsgId));
      return saves.map((s): SaveResult => (s.clientMsgId === 'c2' ? 'duplicate' : 'inserted'));
    });
    const results = await Promise.all([1, 2, 3].map((n) => coalescer.submit(save(n))));
    expect(results).toEqual(['inserted', 'duplicate', 'inserted']);
    expect(batches).toEqual([['c1', 'c2', 'c3']]);
  });

  it('group commit - respects maxBatch and maxRows', async () => {
    const sizes: number[] = [];
    const coalescer = new SaveCoalescer(
      async (saves) => {
        sizes.push(saves.length);
        return saves.map((): SaveResult => 'inserted');
      },
      { maxBatch: 4, maxRows: 10 },
    );
    await Promise.all([
      ...Array.from({ length: 9 }, (_, i) => coalescer.submit(save(i))),
      coalescer.submit(save(100, 9)),
      coalescer.submit(save(101, 9)),
    ]);
    expect(sizes).toEqual([4, 4, 1, 1, 1]);
  });

  it('group commit - a failing batch is retried per message so only the bad one fails', async () => {
    let calls = 0;
    const coalescer = new SaveCoalescer(async (saves) => {
      calls++;
      if (saves.some((s) => s.clientMsgId === 'bad')) throw new Error('conflict');
      return saves.map((): SaveResult => 'inserted');
    });
    const settled = await Promise.allSettled([
      coalescer.submit(save(1)),
      coalescer.submit({ ...save(2), clientMsgId: 'bad' }),
      coalescer.submit(save(3)),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(calls).toBe(4);
  });

  it('group commit - an unavailable store fails the batch at once, without per-message retries', async () => {
    let calls = 0;
    const coalescer = new SaveCoalescer(async () => {
      calls++;
      throw new StoreUnavailableError('down');
    });
    const settled = await Promise.allSettled([1, 2, 3].map((n) => coalescer.submit(save(n))));
    expect(settled.every((s) => s.status === 'rejected' && s.reason instanceof StoreUnavailableError)).toBe(
      true,
    );
    expect(calls).toBe(1);
  });

  it('drain - waits for queued and running batches', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const done: string[] = [];
    const coalescer = new SaveCoalescer(async (saves) => {
      await gate;
      done.push(...saves.map((s) => s.clientMsgId));
      return saves.map((): SaveResult => 'inserted');
    });
    void coalescer.submit(save(1));
    const drained = coalescer.drain().then(() => done.length);
    setTimeout(release, 20);
    expect(await drained).toBe(1);
  });
});
