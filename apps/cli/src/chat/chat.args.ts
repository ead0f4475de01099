export type ChatLogin =
  { kind: 'password'; user: string; password: string } | { kind: 'token'; userId: number; token: string };

export interface ChatArgs {
  server: string;
  login: ChatLogin;
  reconnect: boolean;
}

export const CHAT_USAGE = `Usage: mqim chat [--server URL] (--user NAME --password PASSWORD | --user-id ID --token TOKEN)

  --server URL        tcp://host:port or ws://host:port/ws (default tcp://127.0.0.1:8000)
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

const VALUE_FLAGS = new Set(['server', 'user', 'password', 'user-id', 'token']);

/** Parses `--flag value` and `--flag=value`. */
export function parseChatArgs(argv: readonly string[]): ChatArgs | 'help' {
  const values = new Map<string, string>();
  let reconnect = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return 'help';
    if (arg === '--no-reconnect') {
      reconnect = false;
      continue;
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (match === null || !VALUE_FLAGS.has(match[1])) throw new ChatUsageError(`unknown argument ${arg}`);
    const value = match[2] ?? argv[++i];
    if (value === undefined) throw new ChatUsageError(`--${match[1]} needs a value`);
    values.set(match[1], value);
  }
  const server = values.get('server') ?? 'tcp://127.0.0.1:8000';
  const user = values.get('user');
  const userId = values.get('user-id');
  if (user !== undefined && userId !== undefined)
    throw new ChatUsageError('give --user or --user-id, not both');
  if (user !== undefined) {
    const password = values.get('password');
    if (password === undefined) throw new ChatUsageError('--user needs --password');
    return { server, reconnect, login: { kind: 'password', user, password } };
  }
  if (userId !== undefined) {
    const token = values.get('token');
    const id = Number(userId);
    if (!Number.isSafeInteger(id) || id <= 0)
      throw new ChatUsageError(`--user-id must be a positive integer, got ${userId}`);
    if (token === undefined) throw new ChatUsageError('--user-id needs --token');
    return { server, reconnect, login: { kind: 'token', userId: id, token } };
  }
  throw new ChatUsageError('log in with --user and --password, or --user-id and --token');
}
