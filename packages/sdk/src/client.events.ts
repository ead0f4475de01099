import type { ImClientEventName, ImClientEvents, ImClientListener } from './im.client';

// Stored untyped: each event's list only ever holds listeners of that event.
type AnyListener = (...args: unknown[]) => void;

/**
 * The client's listeners, without node:events (the SDK also runs in browsers). Like an
 * EventEmitter: listeners run synchronously in the order added, `once` ones are removed before they
 * run. Unlike it, a throwing listener neither stops the others nor unwinds into the frame loop,
 * where it would look like a broken connection: it is rethrown on its own, as an uncaught error.
 */
export class ClientEvents {
  private readonly listeners = new Map<ImClientEventName, { fn: AnyListener; once: boolean }[]>();

  on<E extends ImClientEventName>(event: E, fn: ImClientListener<E>, once = false): void {
    const list = this.listeners.get(event) ?? [];
    list.push({ fn: fn as unknown as AnyListener, once });
    this.listeners.set(event, list);
  }

  off<E extends ImClientEventName>(event: E, fn: ImClientListener<E>): void {
    const list = this.listeners.get(event);
    const at = list?.findIndex((l) => l.fn === (fn as unknown)) ?? -1;
    if (at >= 0) list!.splice(at, 1);
  }

  emit<E extends ImClientEventName>(event: E, ...args: ImClientEvents[E]): void {
    const list = this.listeners.get(event);
    if (list === undefined || list.length === 0) return;
    for (const l of [...list]) {
      if (l.once) this.off(event, l.fn as unknown as ImClientListener<E>);
      try {
        l.fn(...args);
      } catch (err) {
        setTimeout(() => {
          throw err;
        }, 0);
      }
    }
  }
}
