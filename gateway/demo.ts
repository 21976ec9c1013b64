import path from 'node:path';
import express from 'express';
import { type Config, loadConfig } from '../lib/config';

const DEMO_DIR = path.join(__dirname, 'demo');
const CONSOLE_DIR = path.join(__dirname, 'console');
const SHARED_DIR = path.join(__dirname, 'web-shared');
// The package's exports map hides dist/, so find it from the package root; client.js and its chunk
// import each other relatively, which keeps working when the whole folder is served as is.
const GRAPHQL_WS_DIST = path.join(path.dirname(require.resolve('graphql-ws/package.json')), 'dist');

/**
 * The storefront demo at `/demo` and the factory console at `/console`: static files that use only the
 * public GraphQL API. What both pages share (helpers, login, base styles) is served at `/shared`, with
 * graphql-ws's browser client, so neither page needs a build step.
 */
export function mountDemo(app: express.Express, config: Config = loadConfig()) {
  app.use('/shared/vendor/graphql-ws', express.static(GRAPHQL_WS_DIST, { index: false }));
  app.use('/shared', express.static(SHARED_DIR, { index: false }));
  for (const [base, dir] of [
    ['/demo', DEMO_DIR],
    ['/console', CONSOLE_DIR],
  ]) {
    // Where the OTP can be read, for the login hint; never told in production.
    app.get(`${base}/config.json`, (_req, res) => {
      res.json({ sandboxUrl: config.NODE_ENV === 'production' ? null : config.sandboxUrl });
    });
    app.use(base, express.static(dir));
  }
}
