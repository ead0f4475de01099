import type { ReceivedMessage } from '@mqim/bus';
import type { Route, RouteTable } from '@mqim/cache';
import type { Logger } from '@mqim/config';
import type { MqimMetrics } from '@mqim/metrics';
import { longToNumber, mqim } from '@mqim/protocol';
import type { GateBatcher } from './gate.batcher';

export interface PushScheduler {
  /** Called after routing with the recipients (sender excluded) and who had no route at all. */
  schedule(push: mqim.v1.IPushCheck, online: number[], offline: number[]): Promise<void>;
}

/**
 * Routes delivery intents: looks up which gates hold each recipient (one batched route lookup),
 * then hands one command per (gate, user) to the batcher. Resolves — and so acks the intent —
 * only after every gate batch it joined is stored.
 */
export class DeliveryConsumer {
  constructor(
    private readonly routes: RouteTable,
    private readonly batcher: GateBatcher,
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
    const perGate = new Map<string, mqim.v1.IGateCommand[]>();
    const online: number[] = [];
    const offline: number[] = [];
    const sender = intent.push ? longToNumber(intent.push.fromUserId) : 0;
    for (const userId of userIds) {
      const list: Route[] = routes.get(userId) ?? [];
      const gates = new Set<string>();
      for (const r of list) gates.add(r.gateId);
      if (userId !== sender) (gates.size ? online : offline).push(userId);
      for (const gateId of gates) {
        let cmds = perGate.get(gateId);
        if (!cmds) perGate.set(gateId, (cmds = []));
        cmds.push({
          userId,
          excludeConnId: gateId === intent.excludeGateId ? intent.excludeConnId : '',
          cmd: intent.cmd,
          body: intent.body,
          originAtMs: intent.originAtMs,
        });
      }
    }
    await Promise.all([...perGate].map(([gateId, cmds]) => this.batcher.add(gateId, cmds)));
    if (intent.push && this.push) await this.push.schedule(intent.push, online, offline);
    this.metrics.consumed.inc({ topic: 'deliver', result: 'ok' });
  }
}
