import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import {
  describeInfra,
  probeMysql,
  probeRedis,
  probeRocketMq,
  startCluster,
  startMqim,
  type MqimCluster,
  type MqimProcess,
} from '@mqim/testing';
import { groupChat, historyPaging, offlineCatchUp, twoPeopleChat } from './testing/chat.scenario';
import { describeBrowser, launchChromium } from './testing/chromium';
import { ChatPage } from './testing/chat.page';

describeBrowser('web chat - standalone (npm start) in Chromium', () => {
  let dir: string;
  let server: MqimProcess;
  let baseUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mqim-web-'));
    // What `npm start` runs, on OS-picked ports: the page finds the gate through the api.
    server = await startMqim(['standalone'], {
      env: {
        MQIM_DATA_DIR: dir,
        MQIM_GATE_HOST: '127.0.0.1',
        MQIM_API_HOST: '127.0.0.1',
        MQIM_GATE_TCP_PORT: '0',
        MQIM_GATE_WS_PORT: '0',
        MQIM_API_PORT: '0',
      },
    });
    baseUrl = `http://127.0.0.1:${server.ready.http as number}/`;
    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('chat - two windows register, chat, see unread badges, ✓ and ✓✓; an offline user catches up; history pages; a group', async () => {
    const { alice, bob } = await twoPeopleChat(
      browser,
      baseUrl,
      { alice: 'alice', bob: 'bob' },
      'standalone-conversation.png',
    );
    const carol = await offlineCatchUp(browser, baseUrl, alice, { carol: 'carol', sender: 'alice' });
    await historyPaging(bob, alice, { reader: 'bob', sender: 'alice' });
    await alice.openSession('bob');
    await groupChat(alice, [bob, carol], { owner: 'alice', members: ['bob', 'carol'], group: 'team' });
  }, 180_000);

  it('login - a wrong password is refused on the page, with the reason', async () => {
    const page = await ChatPage.open(browser, baseUrl);
    await page.register('dave', 'right-password');
    await page.page.reload();
    await page.page.getByLabel('User name').fill('dave');
    await page.page.getByLabel('Password').fill('wrong-password');
    await page.page.getByRole('button', { name: 'Log in' }).click();
    await page.page.getByRole('alert').waitFor();
    expect(await page.page.getByRole('status', { name: 'Connection' }).count()).toBe(0);
    await page.close();
  }, 60_000);
});

describeBrowser('web chat - cluster (api, 2 gates, logic, job) in Chromium', () => {
  describeInfra('cluster', [probeRocketMq(), probeMysql(), probeRedis()], () => {
    let cluster: MqimCluster;
    let browser: Browser;

    beforeAll(async () => {
      cluster = await startCluster({ name: 'web_e2e', gates: 2, logic: 1, jobs: 1 });
      browser = await launchChromium();
    }, 240_000);

    afterAll(async () => {
      await browser?.close();
      await cluster?.stop();
    }, 60_000);

    it('chat - the api serves the page and names both gates; two windows chat; a gate stops and the page reconnects to the other', async () => {
      const baseUrl = `${cluster.api!.url}/`;
      const config = (await (await fetch(`${baseUrl}web/config.json`)).json()) as { gateUrls: string[] };
      expect(config.gateUrls.sort()).toEqual(cluster.gates.map((g) => g.ws).sort());

      const { alice, bob } = await twoPeopleChat(
        browser,
        baseUrl,
        { alice: 'alice', bob: 'bob' },
        'cluster-conversation.png',
      );
      const carol = await offlineCatchUp(browser, baseUrl, alice, { carol: 'carol', sender: 'alice' });
      await groupChat(alice, [bob, carol], { owner: 'alice', members: ['bob', 'carol'], group: 'team' });

      // Every page starts on the first gate it was given: stopping it moves them all.
      const first = cluster.gates.find((g) => g.ws === config.gateUrls[0])!;
      await alice.openSession('bob');
      await bob.openSession('alice');
      await alice.recordLinkStates();
      await first.proc.stop();
      await alice.waitConnected();
      await bob.waitConnected();
      // The person saw it: the banner went through "Reconnecting…" and back.
      expect(await alice.linkStatesSeen()).toContain('Reconnecting…');
      await alice.send('still here after the gate went away');
      await bob.message('still here after the gate went away').waitFor();
    }, 240_000);
  });
});
