import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { describeInfra, InfraUnavailableError, isInfraRequired, planInfra, reachSync } from './infra';
import { freePort } from './net';
import type { InfraProbe } from './probes';

function fakeProbe(port: number): InfraProbe {
  return {
    service: 'fakedb',
    target: `fakedb://127.0.0.1:${port}`,
    endpoints: [{ host: '127.0.0.1', port }],
    hint: 'run `fakedb --port N`',
    check: async () => undefined,
  };
}

// Registration is synchronous, so the unused port for the describeInfra case is found the same way.
function freePortSync(): number {
  const script =
    "const s=require('node:net').createServer().listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})";
  return Number(spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' }).stdout);
}

describe('infra', () => {
  let server: Server;
  let openPort: number;
  let closedPort: number;

  beforeAll(async () => {
    closedPort = await freePort();
    server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    openPort = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('isInfraRequired - MQIM_REQUIRE_INFRA or CI make missing services a failure', () => {
    expect(isInfraRequired({})).toBe(false);
    expect(isInfraRequired({ CI: 'true' })).toBe(true);
    expect(isInfraRequired({ CI: '1' })).toBe(true);
    expect(isInfraRequired({ CI: 'false' })).toBe(false);
    expect(isInfraRequired({ MQIM_REQUIRE_INFRA: '1' })).toBe(true);
    expect(isInfraRequired({ MQIM_REQUIRE_INFRA: 'true' })).toBe(true);
    // An explicit opt-out wins over CI.
    expect(isInfraRequired({ MQIM_REQUIRE_INFRA: '0', CI: 'true' })).toBe(false);
  });

  it('reachSync - tells a listening port from a closed one', () => {
    const [open, closed] = reachSync([
      { host: '127.0.0.1', port: openPort },
      { host: '127.0.0.1', port: closedPort },
    ]);
    expect(open).toMatchObject({ port: openPort, ok: true });
    expect(closed).toMatchObject({ port: closedPort, ok: false, error: 'ECONNREFUSED' });
  });

  it('planInfra - runs when every endpoint answers', () => {
    expect(planInfra('suite', [fakeProbe(openPort)], { required: true })).toEqual({ kind: 'run' });
  });

  it('planInfra - skips loudly when a service is missing and not required', () => {
    const plan = planInfra('my suite', [fakeProbe(openPort), fakeProbe(closedPort)], { required: false });
    expect(plan.kind).toBe('skip');
    const message = plan.kind === 'skip' ? plan.message : '';
    expect(message).toContain('SKIPPED "my suite"');
    expect(message).toContain(`fakedb not reachable at fakedb://127.0.0.1:${closedPort}`);
    expect(message).toContain('run `fakedb --port N`');
    expect(message).toContain('MQIM_REQUIRE_INFRA=1');
  });

  it('planInfra - fails with a named error when a service is missing and required', () => {
    const plan = planInfra('my suite', [fakeProbe(closedPort)], { required: true });
    expect(plan.kind).toBe('fail');
    const error = plan.kind === 'fail' ? plan.error : undefined;
    expect(error).toBeInstanceOf(InfraUnavailableError);
    expect(error?.code).toBe('IM_ERR_INFRA_UNAVAILABLE');
    expect(error?.message).toContain('fakedb not reachable');
    expect(error?.message).toContain('ECONNREFUSED');
    expect(error?.message).toContain('run `fakedb --port N`');
  });

  describe('describeInfra - a missing service, not required', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    describeInfra(
      'needs fakedb',
      fakeProbe(freePortSync()),
      () => {
        // Reported as skipped by jest; were it run, this file would fail.
        it('never runs', () => {
          throw new Error('a suite whose infrastructure is missing ran anyway');
        });
      },
      { required: false },
    );
    const warnings = warn.mock.calls.map((args) => String(args[0]));
    warn.mockRestore();

    it('warns on the console, naming the service', () => {
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('SKIPPED "needs fakedb"');
    });
  });

  describe('describeInfra - reachable services', () => {
    const checked: string[] = [];
    // No endpoints: reachable by definition, so only the check() step is under test here.
    const probe = (service: string): InfraProbe => ({
      service,
      target: service,
      endpoints: [],
      hint: '',
      check: async () => {
        checked.push(service);
      },
    });
    describeInfra('needs a and b', [probe('a'), probe('b')], () => {
      it('runs the body after every probe passed its check', () => {
        expect(checked).toEqual(['a', 'b']);
      });
    });
  });
});
