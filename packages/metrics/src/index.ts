export { MqimMetrics } from './metrics';
export { startOpsServer } from './http-endpoints';
export type { HealthSource } from './http-endpoints';
