import { createLogger } from '@mqim/config';
import { MemoryBus } from '../memory.bus';
import type { OutgoingMessage } from '../message-bus.port';

/**
 * A MemoryBus whose `publish` records each message and answers with `answer` (default: stored),
 * for tests of code that publishes: what went out, in which messages, and what a failed publish
 * does to the caller.
 */
export function recordingBus(answer: (m: OutgoingMessage) => Promise<string> = async () => 'id'): {
  bus: MemoryBus;
  published: OutgoingMessage[];
} {
  const published: OutgoingMessage[] = [];
  const bus = new MemoryBus({ logger: createLogger('test', 'silent') });
  bus.publish = (m) => {
    published.push(m);
    return answer(m);
  };
  return { bus, published };
}
