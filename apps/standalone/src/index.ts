export { startStandalone } from './standalone';
export type { Standalone } from './standalone';
export { createBus, createCache, createStore } from './adapters.factory';
export { apiLimits, gateOptions, jobOptions, logicOptions, pushDispatcher } from './role-options';
export { composeRole, ROLES, type ComposedRole, type RoleDeps, type RoleName } from './role.composition';
export { readiness, type ReadinessDeps } from './readiness';
