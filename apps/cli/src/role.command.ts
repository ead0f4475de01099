import { startRole, type Closable, type RoleName } from '@mqim/composition';
import { createLogger } from '@mqim/config';
import { onShutdown } from './shutdown';
import { clusterConfig, exitOnStartupError } from './startup.error';

/**
 * `mqim gate|logic|job|api`: one role as its own process. The role is opened, proven and composed
 * by `startRole` (@mqim/composition); this command reads the cluster configuration, turns a
 * StartupError into one fatal line and its exit code, and stops the role on a signal.
 */
export async function runRole(role: RoleName): Promise<void> {
  const config = clusterConfig();
  const logger = createLogger(`mqim-${role}`);
  const opened: Closable[] = [];
  const running = await exitOnStartupError(logger, opened, () => startRole(role, config, logger, opened));
  logger.info(running.ready, 'role ready');
  onShutdown(logger, () => running.stop(), config.gateDrainGraceMs + 15_000);
}
