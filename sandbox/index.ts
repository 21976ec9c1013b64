import { runAsProcess } from '../lib/process';
import { startSandbox } from './sandbox';

/** `npm run sandbox`: the sandbox on `config.sandboxPort` until stopped (lib/process.ts). */
if (require.main === module) runAsProcess('sandbox', () => startSandbox());
