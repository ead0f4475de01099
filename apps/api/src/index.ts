export { buildApi } from './api.app';
export type { ApiOptions, ApiDeps } from './api.app';
export type { WebOptions, WebPage } from './web.routes';
export { collectClusterStatus } from './cluster.status';
export type {
  ClusterStatus,
  ClusterStatusDeps,
  DependencyStatus,
  GateStatus,
  GroupLag,
  InstanceStatus,
} from './cluster.status';
