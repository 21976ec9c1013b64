import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';

/**
 * The webhooks benchmark's baseline, a process of its own like each subgraph: Express with a Xendit callback
 * route's raw body parsing (lib/xendit.ts) and a JSON answer, nothing else. Sends its port to the benchmark and
 * ends when the benchmark does.
 */
const app = express();
app.disable('x-powered-by');
app.post('/', express.raw({ type: () => true, limit: '1mb' }), (_req, res) => {
  res.json({ ok: true });
});
const server = http.createServer(app);
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('disconnect', () => process.exit(0));
