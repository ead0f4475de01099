import type { GatePublisher, ReceivedMessage } from '@mqim/bus';
import type { Route, RouteTable } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import type { MqimMetrics } from '@mqim/metrics';
import { longToNumber, mqim } from '@mqim/protocol';

export interface PushScheduler {
  /** Called after routing with the recipients (sender excluded) and who had no route at all. */
  schedule(push: mqim.v1.IPushCheck, online: number[], offline: number[]): Promise<void>;
}

/**
 * Routes delivery intents: looks up which gates hold each recipient (one batched route lookup),
 * then hands one fan-out command per gate (all its recipients, one copy of the body) to the
 * gates' publisher. Resolves — and so acks the intent — only after every gate batch it joined is stored.
 */
export class DeliveryConsumer {
  constructor(
    private readonly routes: RouteTable,
    private readonly gates: GatePublisher,
    private readonly metrics: MqimMetrics,
    private readonly logger: Logger,
    private readonly push?: PushScheduler,
  ) {}

  async handle(msg: ReceivedMessage): Promise<void> {
    let intent: mqim.v1.DeliveryIntent;
    try {
      intent = mqim.v1.DeliveryIntent.decode(msg.body);
    } catch (err) {
      this.logger.error({ err: (err as Error).message, id: msg.id }, 'undecodable delivery intent dropped');
      return;
    }
    const userIds = intent.userIds.map(longToNumber);
    const routes = await this.routes.lookup(userIds);
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
    await Promise.all(
      [...perGate].map(([gateId, users]) =>
        this.gates.send(gateId, [
          {
            userIds: users,
            excludeConnId: gateId === intent.excludeGateId ? intent.excludeConnId : '',
            cmd: intent.cmd,
            body: intent.body,
            originAtMs: intent.originAtMs,
          },
        ]),
      ),
    );
    // Only after the gate batches are stored: if one fails, the intent comes back, and pushing
    // (or scheduling a check) first would push the offline users twice.
    if (intent.push && this.push) await this.push.schedule(intent.push, online, offline);
    this.metrics.consumed.inc({ topic: 'deliver', result: 'ok' });
  }
}
