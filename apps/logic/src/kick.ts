import type { Route } from '@mqim/cache';
import { KickOutReason } from '@mqim/protocol';

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
