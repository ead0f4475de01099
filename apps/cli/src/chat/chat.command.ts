import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { createImClient, ImClientError, type ImClient, type ImClientOptions } from '@mqim/sdk';
import { CHAT_USAGE, ChatUsageError, parseChatArgs, type ChatArgs } from './chat.args';
import { ChatSession } from './chat.session';
import { ChatView } from './chat.view';

export interface ChatIo {
  /** @default process.stdin */
  input?: Readable;
  /** @default process.stdout */
  output?: Writable;
  /** Client options merged over the chat's own (tests use it for short timeouts). */
  clientOptions?: Partial<ImClientOptions>;
}

/**
 * `mqim chat`: a line-oriented chat client. Resolves with the process exit code once the user
 * quits or the input ends: 0 after a normal session, 1 when logging in failed, 2 for a bad
 * command line. Never calls process.exit, and leaves no socket or timer behind.
 */
export async function runChat(argv: string[], io: ChatIo = {}): Promise<number> {
  const input = io.input ?? process.stdin;
  const output = io.output ?? process.stdout;
  let args: ChatArgs | 'help';
  try {
    args = parseChatArgs(argv);
  } catch (err) {
    if (!(err instanceof ChatUsageError)) throw err;
    output.write(`mqim chat: ${err.message}\n\n${CHAT_USAGE}`);
    return 2;
  }
  if (args === 'help') {
    output.write(CHAT_USAGE);
    return 0;
  }

  const client = createImClient({ url: args.servers, reconnect: args.reconnect, ...io.clientOptions });
  try {
    output.write(`Connecting to ${args.servers[0]}…\n`);
    const { user } = await login(client, args);
    output.write(
      `Logged in as ${user.nickName || `user ${user.userId}`} (id ${user.userId}). /help lists the commands.\n`,
    );
  } catch (err) {
    output.write(
      `Login failed: ${err instanceof ImClientError ? `${err.message} (${err.code})` : String(err)}\n`,
    );
    await client.close();
    return 1;
  }
  return chatLoop(client, input, output);
}

function login(client: ImClient, args: ChatArgs): ReturnType<ImClient['loginWithToken']> {
  return args.login.kind === 'password'
    ? client.loginWithPassword(args.login.user, args.login.password)
    : client.loginWithToken(args.login.userId, args.login.token);
}

async function chatLoop(client: ImClient, input: Readable, output: Writable): Promise<number> {
  const terminal =
    (output as { isTTY?: boolean }).isTTY === true && (input as { isTTY?: boolean }).isTTY === true;
  const rl = createInterface({ input, output, terminal, prompt: '> ' });
  // Readline emits lines as soon as input arrives: held until the session has started and the line
  // handler below is attached, or a line typed meanwhile (a fast typist, a pipe) would be lost.
  rl.pause();
  const view = new ChatView(output, rl, terminal);
  const session = new ChatSession(client, view);
  await session.start();
  view.prompt();

  await new Promise<void>((resolve) => {
    // Lines are handled one at a time, in order, so a reply never overtakes the command before it.
    let queue = Promise.resolve();
    let quitting = false;
    const quit = (): void => {
      if (quitting) return;
      quitting = true;
      rl.close();
    };
    rl.on('line', (line) => {
      queue = queue.then(async () => {
        if (quitting) return;
        if ((await session.handle(line)) === 'quit') quit();
        else view.prompt();
      });
    });
    rl.on('SIGINT', quit);
    // Input ended (Ctrl-D, a closed pipe) or /quit: finish what was typed, then leave.
    rl.on('close', () => void queue.then(resolve));
    rl.resume();
  });

  await client.logout().catch(() => undefined);
  await client.close();
  output.write('Bye.\n');
  return 0;
}
