export { Logic } from './logic';
export type { LogicOptions } from './logic-deps';
