import type { mqim } from '@mqim/protocol';

/** An upper estimate of a command's encoded size, for batch size bounds (the bound matters, not exactness). */
export function gateCommandBytes(c: mqim.v1.IGateCommand): number {
  return (
    (c.body?.length ?? 0) +
    (c.userIds?.length ?? 0) * 11 +
    (c.connId?.length ?? 0) +
    (c.excludeConnId?.length ?? 0) +
    (c.reason?.length ?? 0) +
    48
  );
}
