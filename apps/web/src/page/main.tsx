import { render } from 'preact';
import { App } from './app.view';
import { loadWebConfig } from './web.config';

const root = document.getElementById('app')!;

loadWebConfig().then(
  (config) => {
    // render() diffs against what is there; the "Loading…" placeholder is not ours to keep.
    root.textContent = '';
    render(<App config={config} />, root);
  },
  (err: unknown) => {
    root.textContent = `mqim is not reachable: ${err instanceof Error ? err.message : String(err)}`;
    root.setAttribute('role', 'alert');
  },
);
