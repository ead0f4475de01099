import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * One logger per process; roles take children named after themselves. JSON lines to stdout
 * (what log shippers want); MQIM_LOG_LEVEL controls verbosity.
 */
export function createLogger(name: string, level = process.env.MQIM_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}
