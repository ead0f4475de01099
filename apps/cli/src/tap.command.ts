import { parseArgs } from 'node:util';
import { createLogger, parseDuration } from '@mqim/config';
import { createBus } from '@mqim/standalone';
import { MqNames, decodePersisted, SessionType } from '@mqim/protocol';
import { clusterConfig } from './startup.error';
import { onShutdown } from './shutdown';

/**
 * `mqim tap [--group NAME] [--interval 60s]` (also `--interval-ms 60000`): an example analytics consumer. It reads the stream
 * of persisted messages with a consumer group of its own (so it never steals messages from anyone)
 * and prints, per interval, how many messages were stored by conversation type, and how many
 * distinct conversations and bytes that was. De-duplicates redeliveries by message identity.
 */
export async function runTap(argv: string[]): Promise<void> {
  const config = clusterConfig();
  const args = parseTapArgs(argv, config.topicPrefix);
  const logger = createLogger('mqim-tap');
  const names = new MqNames(config.topicPrefix);
  const { group, intervalMs } = args;
  const bus = await createBus(config, logger);
  await bus.ensureGroups([{ name: group, orderly: false }]);

  type Bucket = { single: number; group: number; bytes: number; conversations: Set<string> };
  const fresh = (): Bucket => ({ single: 0, group: 0, bytes: 0, conversations: new Set() });
  let bucket = fresh();
  const seen = new Set<string>();
  const sub = await bus.subscribe({ topic: names.persisted, group }, async (msg) => {
    for (const m of decodePersisted(msg.body)) {
      const key = `${m.sessionType}:${String(m.toSessionId)}:${String(m.serverMsgId)}:${String(m.fromUserId)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (seen.size > 1_000_000) seen.clear();
      if (m.sessionType === SessionType.GROUP) bucket.group++;
      else bucket.single++;
      bucket.bytes += m.msgDataSize ?? 0;
      const conv =
        m.sessionType === SessionType.GROUP
          ? `g${String(m.toSessionId)}`
          : [String(m.fromUserId), String(m.toSessionId)].sort().join('-');
      bucket.conversations.add(conv);
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
 * `--group NAME`, `--interval 60s` (or `--interval-ms 60000`); node's `util.parseArgs`, strict, so
 * a misspelt flag is an error instead of being ignored (the hand-written parser read only
 * `--interval-ms` while the usage said `--interval`).
 */
export function parseTapArgs(
  argv: readonly string[],
  topicPrefix: string,
): { group: string; intervalMs: number } {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      group: { type: 'string' },
      interval: { type: 'string' },
      'interval-ms': { type: 'string' },
    },
  });
  const raw = values.interval ?? values['interval-ms'];
  const intervalMs = raw === undefined ? 60_000 : (parseDuration(raw) ?? NaN);
  if (!Number.isSafeInteger(intervalMs) || intervalMs <= 0)
    throw new Error(`--interval must be a duration such as 30s or 60000, got ${String(raw)}`);
  return { group: values.group ?? `${topicPrefix}-tap-example`, intervalMs };
}
