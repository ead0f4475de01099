import type { ClusterStatus } from '@mqim/composition';
import { formatStatus } from './status.command';

const AT = Date.UTC(2026, 11, 4, 3, 0, 0);

function status(overrides: Partial<ClusterStatus> = {}): ClusterStatus {
  return {
    at: AT,
    ok: true,
    gates: [
      {
        id: 'gate-1',
        address: 'tcp://h1:8000 ws://h1:8001/ws',
        connections: 12,
        users: 9,
        host: 'h1',
        pid: 11,
        version: '0.1.0',
        startedAt: AT - 3 * 3_600_000,
        beatAt: AT - 2_000,
      },
    ],
    instances: [
      {
        role: 'job',
        id: 'h2-22',
        host: 'h2',
        pid: 22,
        version: '0.1.0',
        startedAt: AT - 90_000,
        beatAt: AT - 1000,
      },
      {
        role: 'logic',
        id: 'h2-21',
        host: 'h2',
        pid: 21,
        version: '0.1.0',
        startedAt: AT - 90_000,
        beatAt: AT,
      },
      {
        role: 'logic',
        id: 'h3-31',
        host: 'h3',
        pid: 31,
        version: '0.1.0',
        startedAt: AT - 90_000,
        beatAt: AT,
      },
    ],
    onlineUsers: 9,
    deadGates: [],
    dependencies: [
      { name: 'redis', kind: 'redis', ok: true, ms: 1 },
      { name: 'database', kind: 'mysql', ok: false, ms: 2000, error: 'no answer within 2000 ms' },
      { name: 'broker', kind: 'rocketmq', ok: true, ms: 4 },
    ],
    consumers: {
      source: 'broker',
      groups: [
        { group: 'im-logic', topic: 'im-upstream', lag: 1500, lastConsumedAt: AT - 5_000 },
        { group: 'im-job-push', topic: 'im-push-check', lag: 0, lastConsumedAt: 0 },
        { group: 'im-gate-gate-9', topic: 'im-gate-gate-9', lag: -1, lastConsumedAt: 0, error: 'no queues' },
      ],
    },
    ...overrides,
  };
}

describe('mqim status - the human view', () => {
  it('format - counts, one row per gate and process, a failing dependency stands out, lag per group', () => {
    const text = formatStatus(status({ ok: false }), 'im');
    expect(text).toContain('mqim cluster "im" at 2026-12-04T03:00:00.000Z: NOT OK');
    expect(text).toContain('gates: 1 alive, 12 connections, 9 users online');
    expect(text).toMatch(
      /gate-1\s+12\s+9\s+tcp:\/\/h1:8000 ws:\/\/h1:8001\/ws\s+h1\s+11\s+0\.1\.0\s+3h\s+2s ago/,
    );
    expect(text).toContain('processes: 1 job, 2 logic');
    expect(text).toMatch(/database\s+mysql\s+DOWN\s+2000 ms\s+no answer within 2000 ms/);
    expect(text).toMatch(/im-logic\s+im-upstream\s+1500\s+5s ago/);
    expect(text).toMatch(/im-job-push\s+im-push-check\s+0\s+never/);
    expect(text).toMatch(/im-gate-gate-9\s+im-gate-gate-9\s+\?\s+no queues/);
    expect(text).not.toContain('dead gates');
  });

  it('format - dead gates, nothing alive, and a bus without offsets are said in words', () => {
    const text = formatStatus(
      status({
        gates: [],
        instances: [],
        deadGates: ['gate-2'],
        consumers: { source: 'none', note: 'the in-process bus keeps no offsets', groups: [] },
      }),
      'im',
    );
    expect(text).toContain('gates: 0 alive, 0 connections');
    expect(text).toContain('dead gates (no heartbeat, routes being evicted): gate-2');
    expect(text).toContain('processes: none alive');
    expect(text).toContain('consumer lag: not available (the in-process bus keeps no offsets)');
  });
});
