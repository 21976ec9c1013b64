// First: tracing, when configured, instruments what loads after it (lib/telemetry.ts).
import { nameService } from '../lib/telemetry';
import { runAsProcess } from '../lib/process';
import { startGateway } from './server';

if (require.main === module) {
  nameService('gateway');
  runAsProcess('gateway', () => startGateway());
}
