import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { recordingBus } from '@mqim/bus/testing';
import { CIM, CommandId, KickOutReason, MqNames, mqim } from '@mqim/protocol';
import { publishKicks } from './kick.publisher';

describe('publishKicks - the one way a kick reaches a gate (issue 15 #6)', () => {
  const names = new MqNames('gk');

  it('kick - one KICK batch per gate on its own topic and message group, each connection noticed with the reason', async () => {
    const { bus, published } = recordingBus();
    const routes = [
      { gateId: 'g1', connId: 'a', userId: 7 },
      { gateId: 'g2', connId: 'b', userId: 7 },
      { gateId: 'g1', connId: 'c', userId: 7 },
    ];
    const n = await publishKicks(bus, names, routes, KickOutReason.CREDENTIALS_REVOKED, 'token revoked');
    expect(n).toBe(3);
    expect(published.map((m) => [m.topic, m.messageGroup, m.tag]).sort()).toEqual([
      [names.gate('g1'), 'g1', 'kick'],
      [names.gate('g2'), 'g2', 'kick'],
    ]);
    const g1 = mqim.v1.GateBatch.decode(published.find((m) => m.messageGroup === 'g1')!.body).commands;
    expect(g1.map((c) => [c.action, c.connId, c.cmd])).toEqual([
      [mqim.v1.GateAction.GATE_ACTION_KICK, 'a', CommandId.KICK_OUT_NOTIFY],
      [mqim.v1.GateAction.GATE_ACTION_KICK, 'c', CommandId.KICK_OUT_NOTIFY],
    ]);
    expect(CIM.Ext.MqimKickOutNotify.decode(g1[0]!.body!)).toMatchObject({
      reason: KickOutReason.CREDENTIALS_REVOKED,
      text: 'token revoked',
    });
  });

  it('kick - nothing to kick publishes nothing', async () => {
    const { bus, published } = recordingBus();
    expect(await publishKicks(bus, names, [], KickOutReason.LOGGED_IN_ELSEWHERE, 'x')).toBe(0);
    expect(published).toEqual([]);
  });

  it('one way - no server source outside gate-commands.ts and kick.publisher.ts builds or publishes a kick itself', () => {
    const root = resolve(__dirname, '../../..');
    const sources = (dir: string, out: string[] = []): string[] => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, e.name);
        if (e.isDirectory()) {
          if (!['node_modules', 'generated', 'dist', 'web'].includes(e.name)) sources(path, out);
        } else if (e.name.endsWith('.ts') && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(e.name)) out.push(path);
      }
      return out;
    };
    const owners = [
      join('protocol', 'src', 'gate-commands.ts'),
      join('delivery', 'src', 'kick.publisher.ts'),
    ];
    const builders =
      /action: mqim\.v1\.GateAction\.GATE_ACTION_KICK|MqimKickOutNotify\.encode|encodeKickBatch\(|tag: 'kick'/;
    const strays = [join(root, 'apps'), join(root, 'packages')]
      .flatMap((d) => sources(d))
      .filter((f) => !owners.some((o) => f.endsWith(o)) && builders.test(readFileSync(f, 'utf8')))
      .map((f) => relative(root, f));
    expect(strays).toEqual([]);
  });
});
