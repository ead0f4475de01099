import { PassThrough } from 'node:stream';
import { CommandId } from '@mqim/protocol';
import { createImClient, type ImClient } from '@mqim/sdk';
import { ALICE, BOB, FakeImServer, nextEvent } from '@mqim/sdk/testing';
import { ChatUsageError, parseChatArgs } from './chat.args';
import { runChat } from './index';

/** Drives runChat through streams: `type` a line, `waitFor` some output. */
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

  async waitFor(pattern: string | RegExp, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const found = (): boolean =>
      typeof pattern === 'string' ? this.text.includes(pattern) : pattern.test(this.text);
    while (!found()) {
      if (Date.now() > deadline)
        throw new Error(`output never showed ${String(pattern)}; got:\n${this.text}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

// A terminal session runs the real client against a real gate: on a loaded 2-core CI machine a
// step can take seconds, so waits (and each test) are bounded generously.
jest.setTimeout(30_000);

describe('mqim chat', () => {
  let server: FakeImServer;
  let bob: ImClient | undefined;
  let running: Array<{ term: Terminal; done: Promise<number> }>;

  beforeEach(async () => {
    server = await FakeImServer.start({ users: [ALICE, BOB] });
    running = [];
  });
  afterEach(async () => {
    // A failed test leaves its chat running: end its input so it logs out and closes.
    for (const { term } of running) term.input.end();
    await Promise.all(running.map((r) => r.done));
    await bob?.close();
    bob = undefined;
    await server.close();
  });

  function start(term: Terminal, argv: string[]): Promise<number> {
    const done = runChat(['--server', server.url, ...argv], {
      input: term.input,
      output: term.output,
      clientOptions: { requestTimeoutMs: 10_000 },
    });
    running.push({ term, done });
    return done;
  }

  it('chat - logs in, opens a conversation, sends a line and sees it acked', async () => {
    bob = createImClient({ url: server.url });
    await bob.loginWithToken(BOB.userId, BOB.token!);
    await bob.send({ to: ALICE.userId, text: 'hi alice' });

    const term = new Terminal();
    const done = start(term, ['--user', 'alice', '--password', ALICE.password]);
    await term.waitFor('Logged in as Alice (id 1)');

    // Opening marks the conversation read, so Bob is told.
    const read = nextEvent(bob, 'readNotify');
    term.type('/open 2');
    await term.waitFor('── Bob (user 2) ──');
    await term.waitFor(/\[\d\d:\d\d\] Bob: hi alice/);
    expect(await read).toMatchObject({ readerId: 1, msgId: 1 });

    const incoming = nextEvent(bob, 'message');
    term.type('hello bob');
    await term.waitFor(/\[\d\d:\d\d\] me: hello bob {2}✓/);
    expect(await incoming).toMatchObject({ text: 'hello bob', fromUserId: 1 });

    term.type('/quit');
    expect(await done).toBe(0);
    await term.waitFor('Bye.');
    expect(server.received.some((f) => f.cmd === CommandId.LOGIN_AUTH_LOGOUT_REQ)).toBe(true);
  });

  it('chat - /recall takes back one of my messages; both sides see it recalled', async () => {
    bob = createImClient({ url: server.url });
    await bob.loginWithToken(BOB.userId, BOB.token!);
    const term = new Terminal();
    const done = start(term, ['--user', 'alice', '--password', ALICE.password]);
    await term.waitFor('Logged in as Alice');
    term.type('/open 2');
    await term.waitFor('── Bob (user 2) ──');
    term.type('wrong chat');
    await term.waitFor(/\[1\] \[\d\d:\d\d\] me: wrong chat {2}✓/);

    const told = nextEvent(bob, 'recalled');
    term.type('/recall 1');
    await term.waitFor('↺ me recalled your message [1]');
    expect(await told).toMatchObject({ serverMsgId: 1, fromUserId: 1, recalledBy: 1, sessionId: 1 });
    term.type('/history');
    await term.waitFor(/\[1\] \[\d\d:\d\d\] me: \(recalled\)/);

    // Someone else's message, an id that is no number: refused with a reason, the chat goes on.
    await bob.send({ to: ALICE.userId, text: 'mine' });
    await term.waitFor('Bob: mine');
    term.type('/recall 2');
    await term.waitFor('IM_ERR_FORBIDDEN');
    term.type('/recall x');
    await term.waitFor('Usage: /recall <msgId>');

    term.type('/quit');
    expect(await done).toBe(0);
  });

  it('chat - prints incoming messages and read notifications as they arrive', async () => {
    const term = new Terminal();
    const done = start(term, ['--user-id', '1', '--token', ALICE.token!]);
    await term.waitFor('Logged in');
    bob = createImClient({ url: server.url });
    await bob.loginWithToken(BOB.userId, BOB.token!);

    await bob.send({ to: ALICE.userId, text: 'are you there?' });
    await term.waitFor(/Bob: are you there\? {3}\(Bob \(user 2\): \/open 2\)/);

    term.type('/open 2');
    await term.waitFor('── Bob (user 2) ──');
    term.type('yes');
    await term.waitFor('me: yes');
    const { serverMsgId } = await bob.history({ sessionType: 1, sessionId: 1, limit: 1 }).then((m) => m[0]);
    await bob.markRead(1, ALICE.userId, serverMsgId);
    await term.waitFor('✓✓ read by Bob');

    term.input.end();
    expect(await done).toBe(0);
  });

  it('chat - /sessions, /friends, /history and /help', async () => {
    bob = createImClient({ url: server.url });
    await bob.loginWithToken(BOB.userId, BOB.token!);
    for (const text of ['one', 'two', 'three']) await bob.send({ to: ALICE.userId, text });

    const term = new Terminal();
    const done = start(term, ['--user', 'alice', '--password', ALICE.password]);
    await term.waitFor('Logged in');
    term.type('/sessions');
    await term.waitFor('Recent sessions (3 unread):');
    await term.waitFor(/Bob \(user 2\)\s+3 unread\s+\[\d\d:\d\d\] Bob: three/);
    term.type('/friends');
    await term.waitFor(/ {5}2 {2}Bob/);
    term.type('/history');
    await term.waitFor('Open a conversation first');
    term.type('/open 2');
    await term.waitFor(/── Bob \(user 2\) ──\n.*Bob: one\n.*Bob: two\n.*Bob: three\n/);
    term.text = '';
    term.type('/history 1');
    await term.waitFor('Bob: three');
    expect(term.text).not.toContain('Bob: two');
    term.type('/help');
    await term.waitFor('/open <userId>');
    term.type('/bogus');
    await term.waitFor('Unknown command /bogus');
    term.type('/quit');
    expect(await done).toBe(0);
  });

  it('chat - text without an open conversation asks to open one', async () => {
    const term = new Terminal();
    const done = start(term, ['--user', 'alice', '--password', ALICE.password]);
    await term.waitFor('Logged in');
    term.type('hello?');
    await term.waitFor('Open a conversation first: /open <userId>');
    term.input.end();
    expect(await done).toBe(0);
    expect(server.received.filter((f) => f.cmd === CommandId.MSG_DATA)).toHaveLength(0);
  });

  it('chat - a refused login exits with 1', async () => {
    const term = new Terminal();
    expect(await start(term, ['--user', 'alice', '--password', 'wrong'])).toBe(1);
    expect(term.text).toContain('Login failed');
    expect(term.text).toContain('IM_ERR_LOGIN_FAILED');
  });

  it('chat - a bad command line prints the usage and exits with 2', async () => {
    const term = new Terminal();
    expect(await runChat(['--user', 'alice'], { input: term.input, output: term.output })).toBe(2);
    expect(term.text).toContain('--user needs --password');
    expect(term.text).toContain('Usage: mqim chat');
  });

  it('chat - with several gates, a drained gate sends it to the next one, and what was missed is printed', async () => {
    // A second gate of the same cluster (shared data): pushes reach only its own connections.
    const gate2 = await FakeImServer.start({ transport: 'ws', store: server.store });
    try {
      const term = new Terminal();
      running.push({
        term,
        done: runChat(
          ['--server', `${server.url},${gate2.url}`, '--user', 'alice', '--password', ALICE.password],
          {
            input: term.input,
            output: term.output,
            clientOptions: { requestTimeoutMs: 10_000, reconnect: { initialDelayMs: 5, jitter: 0 } },
          },
        ),
      });
      await term.waitFor('Logged in as Alice');
      bob = createImClient({ url: gate2.url });
      await bob.loginWithToken(BOB.userId, BOB.token!);
      await bob.send({ to: ALICE.userId, text: 'sent while you were on gate 1' });
      for (const c of server.connectionsOf(ALICE.userId)) {
        c.write(CommandId.KICK_OUT_NOTIFY, c.nextServerSeq(), { reason: 3, text: 'server shutting down' });
        c.end();
      }
      await term.waitFor(`Reconnected to ${gate2.url}.`);
      await term.waitFor(/Bob: sent while you were on gate 1/);
      expect(term.text.match(/sent while you were on gate 1/g)).toHaveLength(1);
    } finally {
      await gate2.close();
    }
  });

  it('chat - --server takes a list, repeated or comma-separated', () => {
    const login = ['--user', 'a', '--password', 'p'];
    expect(
      parseChatArgs(['--server', 'tcp://h:1,ws://h:2/ws', '--server', 'tcp://h:3', ...login]),
    ).toMatchObject({
      servers: ['tcp://h:1', 'ws://h:2/ws', 'tcp://h:3'],
    });
    expect(parseChatArgs(login)).toMatchObject({ servers: ['tcp://127.0.0.1:8000'] });
  });

  it('chat - bad command lines are usage errors: unknown flags, a flag without its value, both logins', () => {
    expect(() => parseChatArgs(['--usr', 'a'])).toThrow(ChatUsageError);
    expect(() => parseChatArgs(['--user'])).toThrow(ChatUsageError);
    expect(() => parseChatArgs(['--user', 'a', '--password', 'p', '--user-id', '3', '--token', 't'])).toThrow(
      /not both/,
    );
    expect(parseChatArgs(['--user=a', '--password=p', '--no-reconnect'])).toMatchObject({
      reconnect: false,
      login: { kind: 'password', user: 'a', password: 'p' },
    });
    expect(parseChatArgs(['-h'])).toBe('help');
  });
});
