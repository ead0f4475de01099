import { ConfigError, createLogger, describeSchema, mqimSchema } from '@mqim/config';
import { runRole } from './role.command';
import { runStandaloneCommand } from './standalone.command';
import { runMigrate, runProvision } from './provision.command';

const USAGE = `mqim <command>

  standalone          every role in one process on embedded adapters (npm start)
  gate | logic | job | api
                      one role as its own process (cluster mode: RocketMQ, MySQL, Redis)
  provision           create every shared topic and consumer group (idempotent);
                      --consumer-group NAME registers an analytics consumer's group too
  migrate             apply migrations/ to MySQL (idempotent)
  status              the cluster at a glance: gates, processes, dependencies, consumer lag (--json)
  chat                terminal chat client (mqim chat --help)
  tap                 example analytics consumer: per-interval counts of stored messages
  events-sink         example analytics consumer: the event stream as JSON lines, de-duplicated
  config              list every configuration variable

Configuration is read from environment variables; see \`mqim config\` or docs/configuration.md.`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'standalone':
      return runStandaloneCommand();
    case 'gate':
    case 'logic':
    case 'job':
    case 'api':
      return runRole(command);
    case 'provision':
      return runProvision(rest);
    case 'migrate':
      return runMigrate();
    case 'chat': {
      const { runChat } = await import('./chat');
      await runChat(rest);
      return;
    }
    case 'status': {
      const { runStatus } = await import('./status.command');
      await runStatus(rest);
      return;
    }
    case 'tap': {
      const { runTap } = await import('./tap.command');
      await runTap(rest);
      return;
    }
    case 'events-sink': {
      const { runEventsSink } = await import('./events-sink.command');
      await runEventsSink(rest);
      return;
    }
    case 'config':
      console.log(describeSchema(mqimSchema));
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
    default:
      console.error(`unknown command "${command}"\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(78); // EX_CONFIG
  }
  createLogger('mqim').fatal(
    { err: err instanceof Error ? { message: err.message, stack: err.stack } : err },
    'fatal',
  );
  process.exit(1);
});
