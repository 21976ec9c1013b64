import fs from 'node:fs';

export default async function globalTeardown() {
  const database = (globalThis as { __testDatabase?: { stop(): Promise<void>; dataDir: string } }).__testDatabase;
  if (!database) return;
  await database.stop();
  fs.rmSync(database.dataDir, { recursive: true, force: true });
}
