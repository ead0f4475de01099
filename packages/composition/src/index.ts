// The one place roles are put together, for both composers: `apps/cli` (`mqim <role>`,
// `mqim standalone`, the operator commands) and `apps/standalone` (the standalone's own suite).
// Apps never import apps (ADR 0001): whatever a composer needs from a role app comes through here.
export { createBus, createCache, createStore } from './adapters.factory';
export { apiLimits, gateOptions, jobOptions, logicOptions, pushDispatcher } from './role-options';
export { composeRole, ROLES, type ComposedRole, type RoleDeps, type RoleName } from './role.composition';
export { readiness, type ReadinessDeps } from './readiness';
export { startRole, type Closable, type RunningRole } from './role.runner';
export { startStandalone, type Standalone } from './standalone';
export { EX_CONFIG, EX_UNAVAILABLE, StartupError, errorText, maskUrl, parseUrl } from './startup.error';
export { checkBroker, checkDatabase, checkReachable, checkRocketMq, topicType } from './startup.probes';
// `mqim status` reads the cluster exactly as GET /api/v1/cluster/status does.
export { collectClusterStatus, type ClusterStatus, type DependencyStatus } from '@mqim/api';
