import { RocketMqBus, TopicKindConflictError } from '@mqim/bus';
import {
  EX_CONFIG,
  StartupError,
  checkBroker,
  createBus,
  createStore,
  errorText,
  maskUrl,
  topicType,
} from '@mqim/composition';
import { createLogger } from '@mqim/config';
import { MqNames, assertMqName, type MqGroup } from '@mqim/protocol';
import { createConnection } from 'mysql2/promise';
import { clusterConfig, exitOnStartupError } from './startup.error';

/**
 * The consumer groups named with `--consumer-group NAME` (repeatable): a data team's own group on
 * the analytics topics. RocketMQ's gRPC consumers refuse to start on a group the broker does not
 * know, so it is registered here, with the cluster's, in the step the docs show first.
 */
export function consumerGroupsOf(argv: readonly string[]): MqGroup[] {
  const groups: MqGroup[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let name: string | undefined;
    if (arg === '--consumer-group') name = argv[++i];
    else if (arg.startsWith('--consumer-group=')) name = arg.slice('--consumer-group='.length);
    else throw new StartupError('mqim provision', `unknown argument "${arg}"`, USAGE, EX_CONFIG);
    if (!name) throw new StartupError('mqim provision', '--consumer-group needs a name', USAGE, EX_CONFIG);
    try {
      assertMqName('consumer group', name);
    } catch (err) {
      throw new StartupError('mqim provision', (err as Error).message, USAGE, EX_CONFIG);
    }
    if (!groups.some((g) => g.name === name)) groups.push({ name, orderly: false });
  }
  return groups;
}

const USAGE = 'mqim provision [--consumer-group NAME]... (NAME: letters, digits, "-", "_"; at most 100)';

/**
 * `mqim provision`: every shared topic with its type and every consumer group, idempotently, plus
 * the analytics groups named with `--consumer-group`. Safe to re-run at any time, also while the
 * cluster runs and from several hosts at once: existing topics are left alone (a type conflict is
 * refused), groups are created or rewritten with the same settings, which keeps their consume
 * offsets.
 */
export async function runProvision(argv: readonly string[] = []): Promise<void> {
  const logger = createLogger('mqim-provision');
  let extra: MqGroup[] = [];
  await exitOnStartupError(logger, [], async () => {
    extra = consumerGroupsOf(argv);
  });
  const config = clusterConfig();
  const bus = await createBus(config, logger);
  const names = new MqNames(config.topicPrefix);
  const topics = names.sharedTopics();
  try {
    await exitOnStartupError(logger, [bus], async () => {
      const existing: string[] = [];
      if (bus instanceof RocketMqBus) {
        const brokers = await checkBroker(bus, config);
        for (const t of topics)
          if ((await topicType(bus, brokers[0]!, t.name)) !== undefined) existing.push(t.name);
      }
      try {
        await bus.ensureTopics(topics);
        await bus.ensureGroups([...names.sharedGroups(), ...extra]);
      } catch (err) {
        if (err instanceof TopicKindConflictError)
          throw new StartupError(
            'RocketMQ topics',
            err.message,
            'choose another MQIM_TOPIC_PREFIX, or delete the topic (`mqadmin deleteTopic`) if nothing uses it',
            EX_CONFIG,
          );
        throw new StartupError(
          'RocketMQ',
          `provisioning failed (${errorText(err)})`,
          'check that the broker and the proxy are up, then run `mqim provision` again (it is idempotent)',
        );
      }
      logger.info(
        {
          topicPrefix: config.topicPrefix,
          created: topics.filter((t) => !existing.includes(t.name)).map((t) => `${t.name}(${t.kind})`),
          existing,
          groups: names.sharedGroups().map((g) => `${g.name}${g.orderly ? '(orderly)' : ''}`),
          consumerGroups: extra.map((g) => g.name),
        },
        'provisioned',
      );
    });
  } finally {
    await bus.close();
  }
}

/** `mqim migrate`: creates the database if needed and applies migrations/ (idempotent). */
export async function runMigrate(): Promise<void> {
  const config = clusterConfig();
  const logger = createLogger('mqim-migrate');
  const opened: { close(): Promise<void> }[] = [];
  await exitOnStartupError(logger, opened, async () => {
    const created = config.store === 'mysql' ? await ensureDatabase(config.mysqlUri) : false;
    let store;
    try {
      store = await createStore(config, logger);
    } catch (err) {
      throw new StartupError(
        'MySQL',
        `opening ${maskUrl(config.mysqlUri)} failed (${errorText(err)})`,
        'check MQIM_MYSQL_URI and MQIM_SHARDS (it must match the shard count the database was created with)',
        EX_CONFIG,
      );
    }
    opened.push(store);
    try {
      await store.migrate();
    } catch (err) {
      throw new StartupError(
        'MySQL',
        `migration failed (${errorText(err)})`,
        'read the error above; migrations are re-runnable, so run `mqim migrate` again once it is fixed',
        EX_CONFIG,
      );
    } finally {
      await store.close();
    }
    logger.info({ dialect: store.dialect, shards: config.shards, databaseCreated: created }, 'migrated');
  });
}

/**
 * `CREATE DATABASE IF NOT EXISTS` for the database named in `uri` (utf8mb4, as the schema
 * expects), over a connection that selects no database. True when it did not exist before.
 */
export async function ensureDatabase(uri: string): Promise<boolean> {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new StartupError(
      'MQIM_MYSQL_URI',
      `"${uri}" is not a URL`,
      'set mysql://user:pass@host:port/database',
      EX_CONFIG,
    );
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  // Quoted identifiers allow more, but a name that needs escaping is a mistake more often than not.
  if (!/^[A-Za-z0-9_$-]{1,64}$/.test(database))
    throw new StartupError(
      'MQIM_MYSQL_URI',
      `"${database}" is not a database name mqim accepts (letters, digits, _, $, -; at most 64)`,
      'put the database name in the URI path: mysql://user:pass@host:port/mqim',
      EX_CONFIG,
    );
  url.pathname = '/';
  let conn;
  try {
    conn = await createConnection({ uri: url.toString(), connectTimeout: 5000 });
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new StartupError(
      'MySQL',
      `cannot connect to ${maskUrl(url.toString())} (${code ?? errorText(err)})`,
      code === 'ER_ACCESS_DENIED_ERROR'
        ? 'check the user and password in MQIM_MYSQL_URI'
        : 'check MQIM_MYSQL_URI and that MySQL runs (`bash scripts/ensure-services.sh` starts MariaDB here)',
    );
  }
  try {
    const [rows] = await conn.query(
      'SELECT COUNT(*) AS n FROM information_schema.schemata WHERE schema_name = ?',
      [database],
    );
    const existed = Number((rows as { n: number | string }[])[0]?.n ?? 0) > 0;
    await conn.query(
      `CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
    return !existed;
  } catch (err) {
    throw new StartupError(
      'MySQL',
      `creating database "${database}" failed (${errorText(err)})`,
      'create it yourself (utf8mb4) or give the user of MQIM_MYSQL_URI the CREATE privilege',
      EX_CONFIG,
    );
  } finally {
    await conn.end().catch(() => undefined);
  }
}
