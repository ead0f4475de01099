/** What the api tells the page at /web/config.json. */
export interface WebConfig {
  /** Gate WebSocket URLs; the SDK tries them in turn and moves on at a reconnect. */
  gateUrls: string[];
}

export async function loadWebConfig(): Promise<WebConfig> {
  const res = await fetch('/web/config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`the server has no web config (${res.status})`);
  const config = (await res.json()) as WebConfig;
  if (!Array.isArray(config.gateUrls) || config.gateUrls.length === 0) {
    throw new Error('no gate is online; try again in a moment');
  }
  return config;
}
