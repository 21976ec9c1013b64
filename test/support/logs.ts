import { Writable } from 'node:stream';
import pino from 'pino';

/** A pino logger whose lines a test can read back (parsed), for asserting what was logged and at which level. */
export function capturingLogger(): { logger: pino.Logger; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    }),
  );
  return { logger, lines };
}
