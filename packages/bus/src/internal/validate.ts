import {
  InvalidMessageError,
  type BatchSubscribeOptions,
  type OutgoingMessage,
  type TopicKind,
} from '../message-bus.port';

/** RocketMQ's name rule (`TopicValidator`): letters, digits, `%`, `|`, `_`, `-`, at most 127. */
const NAME = /^[%|a-zA-Z0-9_-]{1,127}$/;

export function assertName(what: 'topic' | 'group', name: string): void {
  if (!NAME.test(name)) {
    throw new InvalidMessageError(`${what} "${name}" must be 1-127 of [a-zA-Z0-9_%|-]`);
  }
}

/** Checks the message against its topic's kind (see `OutgoingMessage`). */
export function assertFitsTopic(kind: TopicKind, message: OutgoingMessage): void {
  if (!(message.body instanceof Uint8Array)) {
    throw new InvalidMessageError(`message body for "${message.topic}" must be a Uint8Array`);
  }
  const hasGroup = message.messageGroup !== undefined;
  if (kind === 'fifo' && (!hasGroup || message.messageGroup === '')) {
    throw new InvalidMessageError(`FIFO topic "${message.topic}" needs a messageGroup`);
  }
  if (kind !== 'fifo' && hasGroup) {
    throw new InvalidMessageError(
      `messageGroup is only allowed on FIFO topics ("${message.topic}" is ${kind})`,
    );
  }
  const hasDeliverAt = message.deliverAt !== undefined;
  if (kind === 'delay' && (!hasDeliverAt || !Number.isFinite(message.deliverAt))) {
    throw new InvalidMessageError(`delay topic "${message.topic}" needs a finite deliverAt`);
  }
  if (kind !== 'delay' && hasDeliverAt) {
    throw new InvalidMessageError(
      `deliverAt is only allowed on delay topics ("${message.topic}" is ${kind})`,
    );
  }
}

/** Default wait before a failed message is handed out again: 1 s, doubling, at most 60 s. */
export function defaultRetryDelayMs(failedAttempt: number): number {
  return Math.min(1000 * 2 ** Math.max(0, failedAttempt - 1), 60_000);
}

export function retryDelayFn(option: number | ((failedAttempt: number) => number) | undefined) {
  if (option === undefined) return defaultRetryDelayMs;
  if (typeof option === 'number') return () => option;
  return option;
}

/** A subscription's limits with the port's defaults (see `SubscribeOptions`), the same for every bus. */
export interface SubscribeLimits {
  concurrency: number;
  invisibleMs: number;
  maxDeliveryAttempts: number;
  maxBatch: number;
}

/** Resolves and checks a subscription's limits; a RangeError names a value that is not a positive integer. */
export function subscribeLimits(options: Partial<BatchSubscribeOptions>): SubscribeLimits {
  return {
    concurrency: positiveInt(options.concurrency ?? 16, 'concurrency'),
    invisibleMs: positiveInt(options.invisibleMs ?? 30_000, 'invisibleMs'),
    maxDeliveryAttempts: positiveInt(options.maxDeliveryAttempts ?? 16, 'maxDeliveryAttempts'),
    maxBatch: positiveInt(options.maxBatch ?? 32, 'maxBatch'),
  };
}

function positiveInt(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${what} must be a positive integer, got ${value}`);
  return value;
}
