export { MqimMetrics } from './metrics';
export { LIVE_PATHS, READY_PATH, readyReport, startOpsServer } from './http-endpoints';
export type { HealthSource, ReadyBody } from './http-endpoints';
