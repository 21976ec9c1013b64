/**
 * `node dist/scripts/probe.js <url>`: exits 0 when the URL answers 2xx within 3 s, else 1. The health check
 * docker compose runs inside a container, whose slim image has no curl. The header is Apollo's CSRF
 * preflight, so the gateway's self-check (`/graphql?query={__typename}`) is a GET it accepts.
 */
const url = process.argv[2];
if (!url) {
  console.error('Usage: node dist/scripts/probe.js <url>');
  process.exit(2);
}
fetch(url, { headers: { 'apollo-require-preflight': 'true' }, signal: AbortSignal.timeout(3000) }).then(
  (response) => process.exit(response.ok ? 0 : 1),
  () => process.exit(1),
);
