export { buildApi } from './api.app';
export type { ApiOptions, ApiDeps } from './api.app';
