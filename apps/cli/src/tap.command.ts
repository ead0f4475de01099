import { parseArgs } from 'node:util';
import { createLogger } from '@mqim/config';
import { createBus } from '@mqim/composition';
import { MqNames, decodePersisted, messageEventId, SessionType } from '@mqim/protocol';
import { ArgError, parseDuration } from './analytics.args';
import { clusterConfig } from './startup.error';
import { onShutdown } from './shutdown';

const USAGE = `mqim tap [--group NAME] [--interval 60s]

  --group NAME      your consumer group (default <prefix>-tap-example); register it first with
                    mqim provision --consumer-group NAME
  --interval 60s    print one line of counts per interval (ms, s, m; default 60s)`;

/**
 * `mqim tap`: an example analytics consumer. It reads the stream of persisted messages with a
 * consumer group of its own (so it never steals messages from anyone) and prints, per interval,
 * how many messages were stored by conversation type, and how many distinct conversations and
 * bytes that was. Redeliveries are dropped by the documented key (docs/analytics.md): the
 * conversation and the server_msg_id, since ids count per conversation.
 */
export async function runTap(argv: string[]): Promise<void> {
  let args: { group: string; intervalMs: number };
  const config = clusterConfig();
  try {
    args = parseTapArgs(argv, config.topicPrefix);
  } catch (err) {
    if (!(err instanceof ArgError)) throw err;
    console.error(`${err.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const logger = createLogger('mqim-tap');
  const names = new MqNames(config.topicPrefix);
  const { group, intervalMs } = args;
  const bus = await createBus(config, logger);
  // Idempotent; kept so the example runs on a cluster provisioned without --consumer-group.
  await bus.ensureGroups([{ name: group, orderly: false }]);

  type Bucket = { single: number; group: number; bytes: number; conversations: Set<string> };
  const fresh = (): Bucket => ({ single: 0, group: 0, bytes: 0, conversations: new Set() });
  let bucket = fresh();
  const seen = new Set<string>();
  const sub = await bus.subscribe({ topic: names.persisted, group }, async (msg) => {
    for (const m of decodePersisted(msg.body)) {
      const st = m.sessionType ?? 0;
      const key = messageEventId(st, Number(m.fromUserId), Number(m.toSessionId), Number(m.serverMsgId));
      if (seen.has(key)) continue;
      seen.add(key);
      // Bounded memory: redeliveries come within minutes, not after a million newer messages.
      if (seen.size > 1_000_000) seen.clear();
      if (st === SessionType.GROUP) bucket.group++;
      else bucket.single++;
      bucket.bytes += m.msgDataSize ?? 0;
      bucket.conversations.add(key.slice(0, key.lastIndexOf('/')));
    }
  });
  const timer = setInterval(() => {
    const b = bucket;
    bucket = fresh();
    console.log(
      JSON.stringify({
        at: new Date().toISOString(),
        single: b.single,
        group: b.group,
        conversations: b.conversations.size,
        bytes: b.bytes,
      }),
    );
  }, intervalMs);
  logger.info({ topic: names.persisted, group, intervalMs }, 'tap ready');
  onShutdown(logger, async () => {
    clearInterval(timer);
    await sub.close();
    await bus.close();
  });
}

/**
 * `--group NAME`, `--interval 60s` (or `--interval-ms 60000`, the flag mqim 0.1 read while its
 * usage said `--interval`); node's `util.parseArgs`, strict, so a misspelt flag is an error instead
 * of being ignored. Every refusal is an `ArgError` (printed with the usage, exit code 2).
 */
export function parseTapArgs(
  argv: readonly string[],
  topicPrefix: string,
): { group: string; intervalMs: number } {
  let values: { group?: string; interval?: string; 'interval-ms'?: string };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        group: { type: 'string' },
        interval: { type: 'string' },
        'interval-ms': { type: 'string' },
      },
    }));
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
      throw new ArgError((err as Error).message);
    throw err;
  }
  const intervalMs =
    values.interval !== undefined
      ? parseDuration(values.interval, '--interval')
      : parseDuration(values['interval-ms'] ?? '60s', '--interval-ms');
  return { group: values.group ?? `${topicPrefix}-tap-example`, intervalMs };
}
