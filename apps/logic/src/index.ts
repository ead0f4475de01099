export { Logic } from './logic';
export type { LogicOptions, LoginThrottleOptions } from './logic-deps';
export { mayModerateGroup } from './group.roles';
