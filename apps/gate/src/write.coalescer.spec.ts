import { Writable } from 'node:stream';
import { COALESCE_FLUSH_BYTES, WriteCoalescer } from './write.coalescer';

/** A stream that records each hand-over to the "kernel": one entry per write()/writev() call. */
function recordingStream() {
  const calls: string[][] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      calls.push([chunk.toString()]);
      cb();
    },
    writev(chunks, cb) {
      calls.push(chunks.map((c) => (c.chunk as Buffer).toString()));
      cb();
    },
  });
  return { stream, calls };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('gate write coalescer - one hand-over per socket per turn', () => {
  it('hold - the frames of one turn leave together, in order, after the turn', async () => {
    const coalescer = new WriteCoalescer();
    const { stream, calls } = recordingStream();
    for (const f of ['a', 'b', 'c']) {
      coalescer.hold(stream);
      stream.write(f);
    }
    expect(calls).toEqual([]);
    await nextTurn();
    expect(calls).toEqual([['a', 'b', 'c']]);
  });

  it('hold - a later turn is a hand-over of its own; streams do not wait for each other', async () => {
    const coalescer = new WriteCoalescer();
    const one = recordingStream();
    const two = recordingStream();
    coalescer.hold(one.stream);
    one.stream.write('1a');
    coalescer.hold(two.stream);
    two.stream.write('2a');
    coalescer.hold(one.stream);
    one.stream.write('1b');
    await nextTurn();
    coalescer.hold(one.stream);
    one.stream.write('1c');
    await nextTurn();
    expect(one.calls).toEqual([['1a', '1b'], ['1c']]);
    expect(two.calls).toEqual([['2a']]);
  });

  it('hold - past the flush size what is held goes at once, so queued bytes stay bounded', () => {
    const coalescer = new WriteCoalescer();
    const { stream, calls } = recordingStream();
    const big = 'x'.repeat(COALESCE_FLUSH_BYTES);
    coalescer.hold(stream);
    stream.write(big);
    expect(calls).toEqual([]);
    coalescer.hold(stream);
    expect(calls).toEqual([[big]]);
    expect(stream.writableLength).toBe(0);
  });

  it('hold - a stream ended or destroyed within the turn is left alone', async () => {
    const coalescer = new WriteCoalescer();
    const ended = recordingStream();
    coalescer.hold(ended.stream);
    ended.stream.write('last');
    ended.stream.end();
    const destroyed = recordingStream();
    coalescer.hold(destroyed.stream);
    destroyed.stream.write('lost');
    destroyed.stream.destroy();
    await nextTurn();
    expect(ended.calls).toEqual([['last']]);
    expect(destroyed.calls).toEqual([]);
    coalescer.hold(destroyed.stream);
    await nextTurn();
  });
});
