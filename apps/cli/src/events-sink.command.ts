import {
  closeSync,
  createReadStream,
  existsSync,
  fstatSync,
  fsyncSync,
  openSync,
  readSync,
  writeSync,
} from 'node:fs';
import { createInterface } from 'node:readline';
import { createBus, errorText } from '@mqim/composition';
import { createLogger } from '@mqim/config';
import { MqNames, decodeEvents, eventFamily, mqim, type EventFamily } from '@mqim/protocol';
import { ArgError, checkFlags, flag, parseDuration } from './analytics.args';
import { clusterConfig } from './startup.error';
import { onShutdown } from './shutdown';

const FAMILIES: readonly EventFamily[] = ['message', 'delivered', 'read', 'group', 'presence', 'push'];

const USAGE = `mqim events-sink --group NAME --out FILE [--families message,group,...] [--interval 60s]

  --group NAME       your consumer group; register it first: mqim provision --consumer-group NAME
  --out FILE         JSON lines, one event each (proto3 JSON of mqim.v1.Event), appended
  --families LIST    keep only these (${FAMILIES.join(', ')}); default all
  --interval 60s     print one line of counts per interval (ms, s, m)`;

/**
 * `mqim events-sink`: the event stream as JSON lines a warehouse can load, each event exactly
 * once by its `event_id` (the documented key). The stream is at least once; the sink makes it
 * exactly once in the file: it reads the ids already in FILE when it starts, appends only ids it
 * has not written, and syncs the file before acking the MQ message — so a crash between the two
 * redelivers the message and its events are skipped, never written twice.
 */
export async function runEventsSink(argv: string[]): Promise<void> {
  let group: string;
  let out: string;
  let families: Set<string>;
  let intervalMs: number;
  try {
    checkFlags(argv, ['--group', '--out', '--families', '--interval']);
    const g = flag(argv, '--group');
    const o = flag(argv, '--out');
    if (!g || !o) throw new ArgError('--group and --out are required');
    group = g;
    out = o;
    const listed = (flag(argv, '--families') ?? FAMILIES.join(',')).split(',').map((f) => f.trim());
    const unknown = listed.filter((f) => !FAMILIES.includes(f as EventFamily));
    if (unknown.length) throw new ArgError(`--families: unknown ${unknown.join(', ')}`);
    families = new Set(listed);
    intervalMs = parseDuration(flag(argv, '--interval') ?? '60s', '--interval');
  } catch (err) {
    if (!(err instanceof ArgError)) throw err;
    console.error(`${err.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const config = clusterConfig();
  const logger = createLogger('mqim-events-sink');
  const names = new MqNames(config.topicPrefix);
  const seen = await idsIn(out);
  const fd = openSync(out, 'a+');
  // A line torn by a crash gets its own line end, so the next event does not join it.
  const { size } = fstatSync(fd);
  const tail = Buffer.alloc(1);
  if (size > 0 && readSync(fd, tail, 0, 1, size - 1) === 1 && tail[0] !== 0x0a) writeSync(fd, '\n');
  const totals = { batches: 0, written: 0, duplicates: 0, skipped: 0 };
  // batches: MQ messages read; events per batch shows how much the publishers batch.
  let window = { batches: 0, written: 0, duplicates: 0, byType: {} as Record<string, number> };

  const bus = await createBus(config, logger);
  let sub;
  try {
    sub = await bus.subscribe({ topic: names.events, group, concurrency: 1 }, async (msg) => {
      let events: mqim.v1.IEvent[];
      try {
        events = decodeEvents(msg.body);
      } catch (err) {
        // Not ours to retry: it would fail the same way every time.
        logger.error({ err: errorText(err), id: msg.id }, 'undecodable event batch skipped');
        return;
      }
      totals.batches++;
      window.batches++;
      const lines: string[] = [];
      const ids: string[] = [];
      for (const e of events) {
        const id = e.eventId ?? '';
        if (!families.has(eventFamily(e.type ?? 0))) {
          totals.skipped++;
          continue;
        }
        if (!id || seen.has(id) || ids.includes(id)) {
          totals.duplicates++;
          window.duplicates++;
          continue;
        }
        ids.push(id);
        lines.push(JSON.stringify(toJson(e)));
        const type = mqim.v1.EventType[e.type ?? 0] ?? String(e.type);
        window.byType[type] = (window.byType[type] ?? 0) + 1;
      }
      if (lines.length) {
        writeSync(fd, lines.join('\n') + '\n');
        fsyncSync(fd);
      }
      for (const id of ids) seen.add(id);
      totals.written += ids.length;
      window.written += ids.length;
    });
  } catch (err) {
    // A group the broker does not know does not land here with the Node client: it starts and
    // then logs "group not found" every second (docs/analytics.md). Other failures do.
    logger.fatal(
      { err: errorText(err), group, topic: names.events },
      `cannot consume; is the group registered? run: mqim provision --consumer-group ${group}`,
    );
    await bus.close();
    closeSync(fd);
    process.exit(69);
  }
  const timer = setInterval(() => {
    console.log(JSON.stringify({ at: new Date().toISOString(), ...window }));
    window = { batches: 0, written: 0, duplicates: 0, byType: {} };
  }, intervalMs);
  logger.info({ topic: names.events, group, out, known: seen.size }, 'events sink ready');
  onShutdown(logger, async () => {
    clearInterval(timer);
    await sub.close();
    await bus.close();
    closeSync(fd);
    logger.info(totals, 'events sink stopped');
  });
}

/** The event ids already in the file (a line cut short by a crash is ignored: it was never acked). */
async function idsIn(file: string): Promise<Set<string>> {
  const ids = new Set<string>();
  if (!existsSync(file)) return ids;
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) {
    try {
      const id = (JSON.parse(line) as { eventId?: unknown }).eventId;
      if (typeof id === 'string') ids.add(id);
    } catch {
      // a torn last line
    }
  }
  return ids;
}

/** proto3 JSON: lowerCamelCase names, 64-bit ids as strings, enums by name, defaults left out. */
function toJson(e: mqim.v1.IEvent): Record<string, unknown> {
  return mqim.v1.Event.toObject(mqim.v1.Event.fromObject(e), { longs: String, enums: String }) as Record<
    string,
    unknown
  >;
}
