import { parseArgs } from 'node:util';

export type ChatLogin =
  { kind: 'password'; user: string; password: string } | { kind: 'token'; userId: number; token: string };

export interface ChatArgs {
  /** Gates of one cluster, in the order they are tried; a reconnect goes to the next one. */
  servers: string[];
  login: ChatLogin;
  reconnect: boolean;
}

export const CHAT_USAGE = `Usage: mqim chat [--server URL] (--user NAME --password PASSWORD | --user-id ID --token TOKEN)

  --server URL        tcp://host:port or ws://host:port/ws (default tcp://127.0.0.1:8000);
                      repeat it, or give a comma-separated list, for several gates: after a
                      drain or a lost connection the chat reconnects to the next one and syncs
  --user NAME         log in with user name and password
  --password PASSWORD plain text, or its MD5 in hex
  --user-id ID        log in with user id and token
  --token TOKEN
  --no-reconnect      exit instead of reconnecting when the connection drops
`;

/** Thrown for bad command lines; the message is shown above the usage. */
export class ChatUsageError extends Error {
  override readonly name = 'ChatUsageError';
}

/** Parses `--flag value` and `--flag=value` (node's `util.parseArgs`, strict: unknown flags are errors). */
export function parseChatArgs(argv: readonly string[]): ChatArgs | 'help' {
  let parsed: ReturnType<typeof parseChat>;
  try {
    parsed = parseChat(argv);
  } catch (err) {
    throw new ChatUsageError((err as Error).message);
  }
  const { values } = parsed;
  if (values.help) return 'help';
  const reconnect = !values['no-reconnect'];
  const servers = (values.server ?? []).flatMap((v) => v.split(',')).filter((url) => url.trim() !== '');
  if (servers.length === 0) servers.push('tcp://127.0.0.1:8000');
  const server = servers.map((url) => url.trim());
  const user = values.user;
  const userId = values['user-id'];
  if (user !== undefined && userId !== undefined)
    throw new ChatUsageError('give --user or --user-id, not both');
  if (user !== undefined) {
    const password = values.password;
    if (password === undefined) throw new ChatUsageError('--user needs --password');
    return { servers: server, reconnect, login: { kind: 'password', user, password } };
  }
  if (userId !== undefined) {
    const token = values.token;
    const id = Number(userId);
    if (!Number.isSafeInteger(id) || id <= 0)
      throw new ChatUsageError(`--user-id must be a positive integer, got ${userId}`);
    if (token === undefined) throw new ChatUsageError('--user-id needs --token');
    return { servers: server, reconnect, login: { kind: 'token', userId: id, token } };
  }
  throw new ChatUsageError('log in with --user and --password, or --user-id and --token');
}

function parseChat(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      server: { type: 'string', multiple: true },
      user: { type: 'string' },
      password: { type: 'string' },
      'user-id': { type: 'string' },
      token: { type: 'string' },
      'no-reconnect': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
