export { Gate } from './gate';
export type { GateOptions, GateDeps } from './gate';
