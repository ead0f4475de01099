export { Job } from './job';
export type { JobOptions, JobDeps } from './job';
