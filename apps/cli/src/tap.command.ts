import { createLogger } from '@mqim/config';
import { createBus } from '@mqim/standalone';
import { MqNames, decodePersisted, messageEventId } from '@mqim/protocol';
import { ArgError, checkFlags, flag, parseDuration } from './analytics.args';
import { clusterConfig } from './role.command';
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
  let group: string | undefined;
  let intervalMs: number;
  try {
    checkFlags(argv, ['--group', '--interval', '--interval-ms']);
    group = flag(argv, '--group');
    // --interval-ms: the flag mqim 0.1 read (its usage said --interval); still accepted.
    const legacy = flag(argv, '--interval-ms');
    intervalMs = parseDuration(flag(argv, '--interval') ?? legacy ?? '60s', '--interval');
  } catch (err) {
    if (!(err instanceof ArgError)) throw err;
    console.error(`${err.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const config = clusterConfig();
  const logger = createLogger('mqim-tap');
  const names = new MqNames(config.topicPrefix);
  group ??= `${config.topicPrefix}-tap-example`;
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
      if (st === 2) bucket.group++;
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
