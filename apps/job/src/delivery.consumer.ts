import type { ReceivedMessage } from '@mqim/bus';
import type { GatePublisher } from '@mqim/delivery';
import type { Route, RouteTable } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import type { MqimMetrics } from '@mqim/metrics';
import { decodeIntents, longToNumber, type mqim } from '@mqim/protocol';

export interface PushScheduler {
  /**
   * The delayed "was it delivered?" check for recipients that had a route (sender excluded);
   * resolves once the check is durably scheduled.
   */
  scheduleCheck(push: mqim.v1.IPushCheck, online: number[]): Promise<void>;
  /** The offline push, at once, for recipients with no route at all. */
  pushOffline(push: mqim.v1.IPushCheck, offline: number[]): Promise<void>;
}

/**
 * Routes delivery intents: looks up which gates hold each recipient (one batched route lookup),
 * then hands one fan-out command per gate (all its recipients, one copy of the body) and the
 * sender's ack, when the intent carries it, to the gates' publisher. Resolves — and so acks the intent — only after every gate batch it joined is stored.
 */
export class DeliveryConsumer {
  constructor(
    private readonly routes: RouteTable,
    private readonly gates: GatePublisher,
    private readonly metrics: MqimMetrics,
    private readonly logger: Logger,
    private readonly push?: PushScheduler,
  ) {}

  /**
   * One `im-deliver` message: a lane's `DeliveryIntentBatch` (or one bare intent from an older
   * logic). The routes of every recipient of the batch come from one lookup; the commands are
   * handed to the gate publisher in intent order, so each gate receives one conversation's
   * deliveries in the order logic produced them.
   */
  handle(msg: ReceivedMessage): Promise<void> {
    return this.handleBatch([msg]);
  }

  /** Consecutive `im-deliver` messages of one lane, routed together (one route lookup). */
  async handleBatch(messages: readonly ReceivedMessage[]): Promise<void> {
    const intents: mqim.v1.DeliveryIntent[] = [];
    for (const msg of messages) {
      try {
        intents.push(...decodeIntents(msg.body, msg.tag));
      } catch (err) {
        this.logger.error({ err: (err as Error).message, id: msg.id }, 'undecodable delivery intent dropped');
      }
    }
    if (intents.length === 0) return;
    const recipients = intents.map((intent) => intent.userIds.map(longToNumber));
    const routes = await this.routes.lookup(unique(recipients));
    const stored: Promise<void>[] = [];
    const checks: Promise<void>[] = [];
    const offlinePushes: Array<() => Promise<void>> = [];
    for (let i = 0; i < intents.length; i++) {
      const intent = intents[i]!;
      const userIds = recipients[i]!;
      // The sender's ack rides the same gate batches as the deliveries (logic did not publish it).
      if (intent.reply && intent.replyGateId)
        stored.push(this.gates.send(intent.replyGateId, [intent.reply]));
      // One fan-out command per gate: the body travels once per gate, however many members it has.
      const perGate = new Map<string, number[]>();
      const online: number[] = [];
      const offline: number[] = [];
      const sender = intent.push ? longToNumber(intent.push.fromUserId) : 0;
      for (const userId of userIds) {
        const list: Route[] = routes.get(userId) ?? [];
        let routed = false;
        for (const r of list) {
          let users = perGate.get(r.gateId);
          if (!users) perGate.set(r.gateId, (users = []));
          // A user with several devices on one gate is listed once; the gate writes to all of them.
          if (users[users.length - 1] !== userId) users.push(userId);
          routed = true;
        }
        if (userId !== sender) (routed ? online : offline).push(userId);
      }
      for (const [gateId, users] of perGate) {
        stored.push(
          this.gates.send(gateId, [
            {
              userIds: users,
              excludeConnId: gateId === intent.excludeGateId ? intent.excludeConnId : '',
              cmd: intent.cmd,
              body: intent.body,
              originAtMs: intent.originAtMs,
            },
          ]),
        );
      }
      const push = intent.push;
      if (push && this.push) {
        // The check is stored beside the gate batches, not after them: this lane's next intents
        // wait for this handler (FIFO), so the two publishes in a row were its latency. If a gate
        // publish fails, the redelivered intent schedules a second check, which can only push a
        // recipient who still has not receipted the message once more.
        if (online.length) checks.push(this.push.scheduleCheck(push, online));
        if (offline.length) offlinePushes.push(() => this.push!.pushOffline(push, offline));
      }
    }
    await Promise.all([...stored, ...checks]);
    // Only after the gate batches are stored: if one fails, the intents come back, and pushing
    // first would push the offline users twice.
    if (offlinePushes.length) await Promise.all(offlinePushes.map((pushNow) => pushNow()));
    this.metrics.consumed.inc({ topic: 'deliver', result: 'ok' }, intents.length);
  }
}

/** Every id of the lists once (a user in many intents of a batch is looked up once). */
function unique(lists: number[][]): number[] {
  if (lists.length === 1) return lists[0]!;
  const all = new Set<number>();
  for (const list of lists) for (const id of list) all.add(id);
  return [...all];
}
