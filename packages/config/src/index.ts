export { readConfig, describeSchema, parseDuration, ConfigError } from './env-schema';
export type { Schema, Field, ConfigOf } from './env-schema';
export { createLogger } from './logger';
export type { Logger } from './logger';
export { checkMqimConfig, mqimSchema } from './mqim.schema';
export type { MqimConfig } from './mqim.schema';
