import { runAsProcess } from '../lib/process';
import { startGateway } from './server';

if (require.main === module) runAsProcess('gateway', () => startGateway());
