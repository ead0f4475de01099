import { render } from 'preact';
import { App } from './app.view';
import { loadWebConfig } from './web.config';

const root = document.getElementById('app')!;

loadWebConfig().then(
  (config) => render(<App config={config} />, root),
  (err: unknown) => {
    root.textContent = `mqim is not reachable: ${err instanceof Error ? err.message : String(err)}`;
    root.setAttribute('role', 'alert');
  },
);
