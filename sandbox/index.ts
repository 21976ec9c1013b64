// First: tracing, when configured, instruments what loads after it (lib/telemetry.ts).
import { nameService } from '../lib/telemetry';
import { runAsProcess } from '../lib/process';
import { startSandbox } from './sandbox';

/** `npm run sandbox`: the sandbox on `config.sandboxPort` until stopped (lib/process.ts). */
if (require.main === module) {
  nameService('sandbox');
  runAsProcess('sandbox', () => startSandbox());
}
