import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..');
const DIST_DIR = path.join(ROOT, 'dist');
/** tsBuildInfoFile in tsconfig.build.json. */
const BUILD_INFO = path.join(DIST_DIR, '.tsbuildinfo');
/** The production folders tsconfig.build.json compiles; their other files are read at run time beside the code. */
const SOURCE_DIRS = ['lib', 'gateway', 'subgraphs', 'sandbox', 'scripts'];
/** Read through gateway/compose.ts, which looks for them one folder above itself. */
const ROOT_FILES = ['supergraph.graphql', 'supergraph.yaml'];

/**
 * `npm run build`: tsc into dist/ (incremental: with nothing changed it takes a second or two), then every
 * non-TypeScript file of the compiled folders (schema.graphql, the storefront, the console) beside its compiled
 * code, so `node dist/scripts/start.js` runs without tsx. The test run builds the same way (test/global-setup.ts)
 * but goes on past a type error: tsc emits all the same, and `npm run typecheck` is the check for those.
 */
export function build(options: { allowTypeErrors?: boolean } = {}): void {
  const startedAt = new Date();
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'tsconfig.build.json'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
  } catch (error) {
    if (!options.allowTypeErrors) throw error;
  } finally {
    // tsc -b calls dist/ current when no source is newer than its build info. A source saved while tsc ran
    // (another test run building) must still count as newer next time, so the build info dates from the start.
    if (fs.existsSync(BUILD_INFO)) fs.utimesSync(BUILD_INFO, startedAt, startedAt);
  }
  for (const dir of SOURCE_DIRS) copyAssets(path.join(ROOT, dir), path.join(DIST_DIR, dir));
  for (const file of ROOT_FILES) copyIfChanged(path.join(ROOT, file), path.join(DIST_DIR, file));
}

function copyAssets(from: string, to: string): void {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    if (entry.isDirectory()) copyAssets(source, path.join(to, entry.name));
    else if (!entry.name.endsWith('.ts')) copyIfChanged(source, path.join(to, entry.name));
  }
}

/** Leaves an unchanged file alone, so services already running from dist/ never read one half-written. */
function copyIfChanged(source: string, target: string): void {
  const content = fs.readFileSync(source);
  if (fs.existsSync(target) && content.equals(fs.readFileSync(target))) return;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, content);
}

if (require.main === module) build();
