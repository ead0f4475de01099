import { startCluster } from './cluster.target';
import type { MqimTarget } from './mqim.target';
import { startStandalone } from './standalone.target';

export function startTarget(
  kind: 'standalone' | 'cluster',
  options: { profileDir?: string; env?: Record<string, string> },
): Promise<MqimTarget> {
  return kind === 'standalone' ? startStandalone(options) : startCluster(options);
}
