// Public entry of @mqim/web: the web chat that the api serves at `/`. Node side only: it builds
// the page; the page itself (src/page/) runs in the browser and talks to a gate through
// @mqim/sdk/browser.

export { buildWebAssets, type WebAsset, type WebAssets } from './web.assets';
