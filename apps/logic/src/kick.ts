import type { MessageBus } from '@mqim/bus';
import type { Route } from '@mqim/cache';
import { KickOutReason, encodeKickBatch, type MqNames } from '@mqim/protocol';

/** Closes the given connections wherever they are (one KICK batch per gate). */
export async function kickRoutes(
  bus: MessageBus,
  names: MqNames,
  routes: Route[],
  reason: number,
  text: string,
): Promise<void> {
  const perGate = new Map<string, string[]>();
  for (const r of routes) {
    const list = perGate.get(r.gateId) ?? [];
    list.push(r.connId);
    perGate.set(r.gateId, list);
  }
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
}

/** Which existing connections a new login displaces under the configured policy. */
export function displacedBy(
  policy: 'many' | 'per-type' | 'single',
  existing: Route[],
  connId: string,
  clientType: number,
): Route[] {
  if (policy === 'many') return [];
  const others = existing.filter((r) => r.connId !== connId);
  return policy === 'single' ? others : others.filter((r) => r.clientType === clientType);
}

export { KickOutReason };
