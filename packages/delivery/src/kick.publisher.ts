import type { MessageBus } from '@mqim/bus';
import { MqNames, encodeKickBatch } from '@mqim/protocol';

/** A connection to close: the gate holding it and its id there (a cache `Route` fits). */
export interface KickTarget {
  gateId: string;
  connId: string;
}

/**
 * The one way a kick reaches a gate: the targets' connections are closed after a 0x0801 notice
 * (`reason`, `text`), one KICK GateBatch per gate on its topic, in the gate's message group so it
 * keeps its order with the replies and deliveries on that topic. Resolves when every batch is stored.
 * @returns how many connections were asked to close
 */
export async function publishKicks(
  bus: MessageBus,
  names: MqNames,
  targets: readonly KickTarget[],
  reason: number,
  text: string,
): Promise<number> {
  const perGate = new Map<string, string[]>();
  for (const t of targets) perGate.set(t.gateId, [...(perGate.get(t.gateId) ?? []), t.connId]);
  await Promise.all(
    [...perGate].map(([gateId, connIds]) =>
      bus.publish({
        topic: names.gate(gateId),
        body: encodeKickBatch(connIds, reason, text),
        messageGroup: gateId,
        tag: 'kick',
      }),
    ),
  );
  return targets.length;
}
