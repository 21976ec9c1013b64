import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { SUBGRAPHS, envPrefix, type SubgraphName, GATEWAY_PORT, SANDBOX_PORT } from '../lib/services';
import { ConfigError, loadConfig, PRODUCTION_SECRETS, PROVIDER_URLS } from '../lib/config';

interface Service {
  command?: string[];
  environment?: Record<string, string>;
  expose?: string[];
  ports?: string[];
  depends_on?: unknown;
}

function composeFile(name: string): Record<string, Service> {
  return (
    parse(fs.readFileSync(path.join(__dirname, '..', name), 'utf8'), { merge: true }) as {
      services: Record<string, Service>;
    }
  ).services;
}

/** Compose's `${VAR}` interpolation (unset is blank), which the YAML parser leaves alone. */
function interpolate(environment: Record<string, string>, shell: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).map(([key, value]) => [
      key,
      String(value).replace(/\$\{(\w+)\}/g, (_, name: string) => shell[name] ?? ''),
    ]),
  );
}

/** What a deployment's .env gives the production file. */
const DEPLOYMENT: Record<string, string> = {
  ...Object.fromEntries(
    PRODUCTION_SECRETS.map((name) => [name, `${name.toLowerCase()}-0123456789abcdefghijklmnopqrstuvwxyz`]),
  ),
  ...PROVIDER_URLS,
  WHATSAPP_PHONE_NUMBER_ID: '123456789012345',
  POSTGRES_PASSWORD: 'a-strong-database-password',
};

/** Docker is not available here, so the compose files are checked for consistency instead of run. */
describe('docker-compose.yml (production)', () => {
  const services = composeFile('docker-compose.yml');
  const processes = Object.entries(services).filter(([name]) => name !== 'postgres');

  it('has postgres, the gateway and every subgraph as its own service, and no sandbox', () => {
    for (const name of ['postgres', 'gateway', ...Object.keys(SUBGRAPHS)]) expect(services).toHaveProperty([name]);
    expect(services).not.toHaveProperty(['sandbox']);
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
    // The gateway alone names every subgraph.
    expect(checked).toBeGreaterThanOrEqual(Object.keys(SUBGRAPHS).length);
  });

  it('publishes only the gateway, on port 4000, with every subgraph URL', () => {
    const published = Object.entries(services)
      .filter(([, service]) => service.ports?.length)
      .map(([name]) => name);
    expect(published).toEqual(['gateway']);
    expect(services.gateway.ports).toEqual([`${GATEWAY_PORT}:${GATEWAY_PORT}`]);
    for (const name of Object.keys(SUBGRAPHS) as SubgraphName[]) {
      expect(services.gateway.environment?.[`${envPrefix(name)}_SERVICE_URL`]).toBe(
        `http://${name}:${SUBGRAPHS[name]}`,
      );
    }
  });

  it('takes every secret and provider URL from the deployment, with no development fallback', () => {
    for (const [name, service] of processes) {
      expect({ name, NODE_ENV: service.environment?.NODE_ENV }).toEqual({ name, NODE_ENV: 'production' });
      for (const key of [...PRODUCTION_SECRETS, ...Object.keys(PROVIDER_URLS)]) {
        expect({ name, key, value: service.environment?.[key] }).toEqual({ name, key, value: `\${${key}}` });
      }
    }
  });

  it('starts every process once the deployment sets them, and refuses each one without them', () => {
    for (const [name, service] of processes) {
      expect(() => loadConfig(interpolate(service.environment!, DEPLOYMENT))).not.toThrow();
      let refused: unknown;
      try {
        loadConfig(interpolate(service.environment!, {}));
      } catch (error) {
        refused = error;
      }
      expect(refused).toBeInstanceOf(ConfigError);
      const variables = (refused as ConfigError).problems.map((line) => line.split(':')[0]).sort();
      expect({ name, variables }).toEqual({
        name,
        variables: [...PRODUCTION_SECRETS, ...Object.keys(PROVIDER_URLS)].sort(),
      });
    }
  });
});

describe('docker-compose.dev.yml (development override)', () => {
  const base = composeFile('docker-compose.yml');
  const dev = composeFile('docker-compose.dev.yml');

  it('adds the sandbox and publishes it and PostgreSQL', () => {
    expect(dev.sandbox.command?.join(' ')).toContain('sandbox/index.ts');
    expect(dev.sandbox.ports).toEqual([`${SANDBOX_PORT}:${SANDBOX_PORT}`]);
    expect(dev.postgres.ports).toEqual(['5432:5432']);
  });

  it('runs every process of the production file in development, against the sandbox', () => {
    for (const name of [...Object.keys(base).filter((n) => n !== 'postgres'), 'sandbox']) {
      // Compose merges an override's environment over the base one, key by key.
      const environment = interpolate({ ...base[name]?.environment, ...dev[name]?.environment }, {});
      const config = loadConfig(environment);
      expect({ name, env: config.NODE_ENV, xendit: config.xenditApiUrl, whatsapp: config.whatsappApiUrl }).toEqual({
        name,
        env: 'development',
        xendit: `http://sandbox:${SANDBOX_PORT}`,
        whatsapp: `http://sandbox:${SANDBOX_PORT}`,
      });
      expect(environment.DATABASE_URL).toMatch(/@postgres:5432\//);
    }
  });
});
