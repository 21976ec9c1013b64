import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..');
export const DIST_DIR = path.join(ROOT, 'dist');
/** The production folders tsconfig.build.json compiles; their other files are read at run time beside the code. */
const SOURCE_DIRS = ['lib', 'gateway', 'subgraphs', 'sandbox', 'scripts'];
/** Read through gateway/compose.ts, which looks for them one folder above itself. */
const ROOT_FILES = ['supergraph.graphql', 'supergraph.yaml'];

/**
 * `npm run build`: tsc into dist/ (incremental: a second build with nothing changed takes a second or two),
 * then every non-TypeScript file of the compiled folders (schema.graphql, the storefront, the console) beside
 * its compiled code, so `node dist/scripts/start.js` runs without tsx.
 */
export function build(): void {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  for (const dir of SOURCE_DIRS) {
    fs.cpSync(path.join(ROOT, dir), path.join(DIST_DIR, dir), {
      recursive: true,
      filter: (source) => fs.statSync(source).isDirectory() || !source.endsWith('.ts'),
    });
  }
  for (const file of ROOT_FILES) fs.copyFileSync(path.join(ROOT, file), path.join(DIST_DIR, file));
}

if (require.main === module) build();
