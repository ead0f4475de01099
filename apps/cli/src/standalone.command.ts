import { checkMqimConfig, createLogger, mqimSchema, readConfig } from '@mqim/config';
import { startStandalone } from '@mqim/composition';
import { onShutdown } from './shutdown';

export async function runStandaloneCommand(): Promise<void> {
  const config = readConfig(mqimSchema, process.env, checkMqimConfig);
  const logger = createLogger('mqim');
  const started = Date.now();
  const s = await startStandalone(config, logger);
  logger.info(
    {
      tcp: s.ports.tcp,
      ws: s.ports.ws,
      http: s.ports.http,
      bus: config.bus,
      store: config.store,
      cache: config.cache,
      // What a newcomer opens first (the api's host, as a browser on this machine reaches it).
      webChat: `http://${/^(0\.0\.0\.0|::|)$/.test(config.apiHost) ? 'localhost' : config.apiHost}:${s.ports.http}/`,
      ms: Date.now() - started,
    },
    'mqim standalone ready',
  );
  if (!config.apiKey)
    logger.warn(
      { apiKey: s.apiKey },
      'MQIM_API_KEY not set: using this random key for /api/v1 until restart',
    );
  onShutdown(logger, () => s.stop(), config.gateDrainGraceMs + 15_000);
}
