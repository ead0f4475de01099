import { mqimSchema, readConfig } from '@mqim/config';
import { jobOptions, logicOptions } from './role-options';

const config = (env: Record<string, string>) =>
  readConfig(mqimSchema, { MQIM_API_KEY: 'k-options-0123456789', ...env });

describe('role options - batch windows on the message path', () => {
  it('in-process bus - no gathering window: the job and logic batches go at the end of the turn', () => {
    const c = config({ MQIM_BUS: 'memory', MQIM_JOB_BATCH_WINDOW: '2' });
    expect(jobOptions(c).batchWindowMs).toBe(0);
    expect(logicOptions(c).mqWindowMs).toBe(0);
  });

  it('broker - the windows stay while nothing is in flight (MQIM_JOB_BATCH_WINDOW, 1 ms for logic)', () => {
    const c = config({ MQIM_BUS: 'rocketmq', MQIM_JOB_BATCH_WINDOW: '3' });
    expect(jobOptions(c).batchWindowMs).toBe(3);
    expect(logicOptions(c).mqWindowMs).toBe(1);
  });
});
