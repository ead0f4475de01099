export { Job } from './job';
export type { JobOptions, JobDeps } from './job';
export {
  OBSERVER_EVENTS,
  ObserverHooks,
  parseObserverEvents,
  type BotDirectory,
  type BotHook,
  type ObserverEvent,
  type ObserverHooksOptions,
  type ObserverPayload,
} from './observer.hooks';
export { StoreBotDirectory } from './bot.directory';
