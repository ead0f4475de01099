import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createImClient, passwordMd5, type ImClient } from '@mqim/sdk';
import { startMqim, waitFor, type MqimProcess } from '@mqim/testing';
import { runChat } from './index';

/** The chat's terminal: lines typed in, everything printed collected. */
class Terminal {
  readonly input = new PassThrough();
  readonly output = new PassThrough();
  text = '';

  constructor() {
    this.output.on('data', (chunk: Buffer) => (this.text += chunk.toString()));
  }

  type(line: string): void {
    this.input.write(`${line}\n`);
  }

  waitFor(pattern: string | RegExp): Promise<unknown> {
    return waitFor(
      () => (typeof pattern === 'string' ? this.text.includes(pattern) : pattern.test(this.text)),
      {
        timeoutMs: 15_000,
        message: `output showing ${String(pattern)}; got:\n${this.text}`,
      },
    );
  }
}

/**
 * `mqim chat` with issue 12 against a real standalone process: adding a contact, answering a
 * request, seeing a contact come online and go offline, and seeing them type.
 */
describe('mqim chat - contacts, presence and typing on a real server', () => {
  let dir: string;
  let server: MqimProcess;
  let url: string;
  const ids: Record<string, number> = {};
  const clients: ImClient[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mqim-chat-social-'));
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
    url = `tcp://127.0.0.1:${server.ready.tcp as number}`;
    for (const name of ['cli-ann', 'cli-ben']) {
      const res = await fetch(`http://127.0.0.1:${server.ready.http as number}/user/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userName: name, userNickName: name, userPwd: passwordMd5('pw') }),
      });
      expect(res.status).toBe(200);
      const probe = createImClient({ url, reconnect: false });
      ids[name] = (await probe.loginWithPassword(name, 'pw')).user.userId;
      await probe.close();
    }
  }, 90_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('chat - /add, the request shown to the other side, presence and typing of the new contact', async () => {
    const term = new Terminal();
    const done = runChat(['--server', url, '--user', 'cli-ann', '--password', 'pw'], {
      input: term.input,
      output: term.output,
      clientOptions: { requestTimeoutMs: 10_000 },
    });
    try {
      await term.waitFor('Logged in as cli-ann');
      term.type('/friends');
      await term.waitFor('No contacts yet');

      const ben = createImClient({ url, reconnect: false });
      clients.push(ben);
      await ben.loginWithPassword('cli-ben', 'pw');
      await ben.requestFriend(ids['cli-ann']!, 'from ben');
      await term.waitFor(`asks to be your contact: "from ben" — /accept ${ids['cli-ben']}`);
      term.type(`/accept ${ids['cli-ben']}`);
      await term.waitFor('cli-ben (user');
      await term.waitFor('is your contact');
      term.type('/friends');
      await term.waitFor(/cli-ben\s+● online/);

      term.type(`/open ${ids['cli-ben']}`);
      await term.waitFor('── cli-ben');
      await ben.sendTyping(ids['cli-ann']!, true);
      await term.waitFor('… cli-ben is typing');

      await ben.close();
      await term.waitFor('○ cli-ben is offline');

      term.type('/add 99999999');
      await term.waitFor('IM_ERR_NOT_FOUND');
    } finally {
      term.input.end();
      await done;
    }
  }, 60_000);
});
