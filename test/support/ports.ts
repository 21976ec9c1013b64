import net from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

/** A PORT_OFFSET under which the gateway, sandbox and every subgraph port are free. */
export async function freePortOffset(basePorts: number[]): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    // Stays within PORT_OFFSET's validated range (lib/config.ts: at most 50000).
    const offset = 10000 + Math.floor(Math.random() * 401) * 100;
    const checks = await Promise.all(basePorts.map((port) => isFree(port + offset)));
    if (checks.every(Boolean)) return offset;
  }
  throw new Error('No free port range found');
}
