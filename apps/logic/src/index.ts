export { Logic } from './logic';
export type { LogicOptions, LoginThrottleOptions } from './logic-deps';
