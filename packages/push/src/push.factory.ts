import { readFileSync } from 'node:fs';
import { createLogger } from '@mqim/config';
import { ApnsProvider } from './apns.provider';
import type { ServiceAccount } from './fcm.auth';
import { FcmProvider } from './fcm.provider';
import { PushDispatcher, type PushDispatcherOptions } from './push.dispatcher';
import { PushConfigError } from './push.errors';
import type { PushProvider } from './push.port';
import { WebhookProvider } from './webhook.provider';

/**
 * Push settings as the roles read them (see docs/push.md for the environment variables). A section
 * whose fields are all empty/absent is "not configured"; one that is partly filled is an error, so
 * a typo in one variable cannot silently disable a platform.
 */
export interface PushConfig {
  webhook?: {
    url?: string;
    secret?: string;
    /** JSON-lines file of undeliverable notifications; without it they are only logged. */
    deadLetterFile?: string;
    /**
     * Send devices of unconfigured platforms through the webhook.
     * @default true
     */
    fallback?: boolean;
  };
  apns?: {
    keyId?: string;
    teamId?: string;
    bundleId?: string;
    /** Path of the .p8 auth key. */
    keyFile?: string;
    /** @default 'https://api.push.apple.com' */
    endpoint?: string;
    /** PEM file of extra trusted CAs (test fakes, TLS-intercepting proxies). */
    caFile?: string;
  };
  fcm?: {
    /** Path of the service-account key JSON. */
    serviceAccountFile?: string;
    /** @default the service account's project_id */
    projectId?: string;
    /** @default 'https://fcm.googleapis.com' */
    endpoint?: string;
    /** @default the service account's token_uri, else 'https://oauth2.googleapis.com/token' */
    tokenUri?: string;
  };
  /** @default 2000 */
  coalesceWindowMs?: number;
  /** @default 10 */
  userCap?: number;
  /** @default 60000 */
  userCapIntervalMs?: number;
}

export type PushDispatcherDeps = Pick<
  PushDispatcherOptions,
  'targets' | 'onPermanentFailure' | 'onReport' | 'logger'
>;

/**
 * Builds the providers that are configured (none is fine: the dispatcher then has no platforms and
 * `notify()` is a no-op) and a dispatcher over them. Reads key files synchronously: this runs once
 * at start-up and every problem, across all sections, is reported in one `PushConfigError`.
 */
export function createPushDispatcher(config: PushConfig, deps: PushDispatcherDeps): PushDispatcher {
  const logger = deps.logger ?? createLogger('push');
  const problems: string[] = [];
  const providers: PushProvider[] = [];
  const build = (make: () => PushProvider | undefined): void => {
    try {
      const p = make();
      if (p) providers.push(p);
    } catch (err) {
      if (err instanceof PushConfigError) problems.push(...err.problems);
      else throw err;
    }
  };

  build(() => {
    const c = config.webhook;
    if (!isConfigured(c, ['url', 'secret', 'deadLetterFile'])) return undefined;
    requireFields('webhook', c, ['url', 'secret']);
    return new WebhookProvider({
      url: c.url ?? '',
      secret: c.secret ?? '',
      deadLetterFile: c.deadLetterFile || undefined,
      logger,
    });
  });
  build(() => {
    const c = config.apns;
    if (!isConfigured(c, ['keyId', 'teamId', 'bundleId', 'keyFile'])) return undefined;
    requireFields('APNs', c, ['keyId', 'teamId', 'bundleId', 'keyFile']);
    const privateKey = readRequired(c.keyFile, 'APNs keyFile');
    const ca = c.caFile ? readRequired(c.caFile, 'APNs caFile') : undefined;
    return new ApnsProvider({
      keyId: c.keyId ?? '',
      teamId: c.teamId ?? '',
      bundleId: c.bundleId ?? '',
      privateKey,
      endpoint: c.endpoint || undefined,
      ca,
      logger,
    });
  });
  build(() => {
    const c = config.fcm;
    if (!isConfigured(c, ['serviceAccountFile', 'projectId'])) return undefined;
    requireFields('FCM', c, ['serviceAccountFile']);
    const raw = readRequired(c.serviceAccountFile, 'FCM serviceAccountFile');
    let serviceAccount: ServiceAccount;
    try {
      serviceAccount = JSON.parse(raw) as ServiceAccount;
    } catch (err) {
      throw new PushConfigError([
        `FCM serviceAccountFile ${c.serviceAccountFile}: not JSON (${(err as Error).message})`,
      ]);
    }
    return new FcmProvider({
      serviceAccount,
      projectId: c.projectId || undefined,
      endpoint: c.endpoint || undefined,
      tokenUri: c.tokenUri || undefined,
      logger,
    });
  });

  if (problems.length) {
    void Promise.allSettled(providers.map((p) => p.close()));
    throw new PushConfigError(problems);
  }
  const webhookFallback = config.webhook?.fallback ?? true;
  const hasWebhook = providers.some((p) => p.platform === 'webhook');
  logger.info(
    { platforms: providers.map((p) => p.platform) },
    providers.length ? 'push enabled' : 'push disabled',
  );
  return new PushDispatcher({
    ...deps,
    logger,
    providers,
    fallbackPlatform: hasWebhook && webhookFallback ? 'webhook' : undefined,
    coalesceWindowMs: config.coalesceWindowMs,
    userCap: config.userCap,
    userCapIntervalMs: config.userCapIntervalMs,
  });
}

function isConfigured<T extends object>(section: T | undefined, fields: Array<keyof T>): section is T {
  return !!section && fields.some((f) => !!section[f]);
}

function requireFields<T extends object>(what: string, section: T, fields: Array<keyof T & string>): void {
  const missing = fields.filter((f) => !section[f]);
  if (missing.length) throw new PushConfigError(missing.map((f) => `${what} ${f} is not set`));
}

function readRequired(path: string | undefined, what: string): string {
  if (!path) throw new PushConfigError([`${what} is not set`]);
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new PushConfigError([`${what} ${path}: ${(err as Error).message}`]);
  }
}
