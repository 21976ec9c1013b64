import fs from 'node:fs';
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

/**
 * Where the kernel starts picking ports for outgoing connections. Services take seconds to bind after
 * their ports were found free; a port in this range can be taken meanwhile by any client socket.
 */
function firstEphemeralPort(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

/** A PORT_OFFSET under which the gateway, sandbox and every subgraph port are free, below the ephemeral range. */
export async function freePortOffset(basePorts: number[]): Promise<number> {
  const highest = Math.min(50_000, firstEphemeralPort() - Math.max(...basePorts) - 1);
  const choices = Math.floor((highest - 10_000) / 100) + 1;
  if (choices < 1) throw new Error('No port range below the ephemeral ports');
  for (let attempt = 0; attempt < 50; attempt += 1) {
    // Stays within PORT_OFFSET's validated range (lib/config.ts: 10000 and up to 50000 here).
    const offset = 10_000 + Math.floor(Math.random() * choices) * 100;
    const checks = await Promise.all(basePorts.map((port) => isFree(port + offset)));
    if (checks.every(Boolean)) return offset;
  }
  throw new Error('No free port range found');
}
