import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { SUBGRAPHS, envPrefix, SubgraphName } from '../lib/services';

/** Docker is not available here, so the compose file is checked for consistency instead of run. */
describe('docker-compose.yml', () => {
  const compose = parse(fs.readFileSync(path.join(__dirname, '..', 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { command?: string[]; environment?: Record<string, string>; expose?: string[]; ports?: string[] }>;
  };
  const services = compose.services;

  it('has postgres, the sandbox, the gateway and every subgraph as its own service', () => {
    for (const name of ['postgres', 'sandbox', 'gateway', ...Object.keys(SUBGRAPHS)]) expect(services).toHaveProperty([name]);
  });

  it.each(Object.entries(SUBGRAPHS))('runs %s on its port with its own entry point', (name, port) => {
    const service = services[name];
    expect(service.environment?.PORT).toBe(String(port));
    expect(service.expose).toContain(String(port));
    expect(service.command?.join(' ')).toContain(`subgraphs/${name}/index.ts`);
    expect(service.environment?.DATABASE_URL).toMatch(/@postgres:5432\//);
  });

  it('points every *_SERVICE_URL at a compose service on that subgraph port', () => {
    let checked = 0;
    for (const [serviceName, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (!key.endsWith('_SERVICE_URL')) continue;
        const target = (Object.keys(SUBGRAPHS) as SubgraphName[]).find((n) => `${envPrefix(n)}_SERVICE_URL` === key);
        expect({ serviceName, key, known: Boolean(target) }).toEqual({ serviceName, key, known: true });
        const url = new URL(value);
        expect(services).toHaveProperty([url.hostname]);
        expect(url.hostname).toBe(target);
        expect(Number(url.port)).toBe(SUBGRAPHS[target!]);
        checked += 1;
      }
    }
    // The gateway alone names all twelve.
    expect(checked).toBeGreaterThanOrEqual(Object.keys(SUBGRAPHS).length);
  });

  it('gives the gateway every subgraph URL and the public port 4000', () => {
    const gateway = services.gateway;
    expect(gateway.ports).toContain('4000:4000');
    for (const name of Object.keys(SUBGRAPHS) as SubgraphName[]) {
      expect(gateway.environment?.[`${envPrefix(name)}_SERVICE_URL`]).toBe(`http://${name}:${SUBGRAPHS[name]}`);
    }
  });
});
