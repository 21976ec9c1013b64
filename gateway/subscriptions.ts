import http from 'node:http';
import { Config } from '../lib/config';
import { Logger } from '../lib/logger';
import { SessionDirectory } from './session-directory';

/** Placeholder until federated subscriptions land: nothing is served on ws:// yet. */
export async function mountSubscriptions(_options: {
  httpServer: http.Server;
  config: Config;
  logger: Logger;
  sessions: SessionDirectory;
  supergraphSdl: string;
}) {
  return { stop: async () => {} };
}
