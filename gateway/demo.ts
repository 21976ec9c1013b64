import path from 'node:path';
import express from 'express';
import { type Config, loadConfig } from '../lib/config';

const DEMO_DIR = path.join(__dirname, 'demo');
// The package's exports map hides dist/, so find it from the package root; client.js and its chunk
// import each other relatively, which keeps working when the whole folder is served as is.
const GRAPHQL_WS_DIST = path.join(path.dirname(require.resolve('graphql-ws/package.json')), 'dist');

/**
 * The storefront demo at `/demo`: static files that use only the public GraphQL API, plus graphql-ws's
 * browser client, so the page needs no build step.
 */
export function mountDemo(app: express.Express, config: Config = loadConfig()) {
  // Where the OTP can be read, for the login hint; never told in production.
  app.get('/demo/config.json', (_req, res) => {
    res.json({ sandboxUrl: config.NODE_ENV === 'production' ? null : config.sandboxUrl });
  });
  app.use('/demo/vendor/graphql-ws', express.static(GRAPHQL_WS_DIST, { index: false }));
  app.use('/demo', express.static(DEMO_DIR));
}
