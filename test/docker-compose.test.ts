import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { SUBGRAPHS, envPrefix, type SubgraphName, GATEWAY_PORT, SANDBOX_PORT } from '../lib/services';
import { ConfigError, loadConfig, PRODUCTION_SECRETS, PRODUCTION_SETTINGS, PROVIDER_URLS } from '../lib/config';

interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  expose?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

const ROOT = path.join(__dirname, '..');

function composeFile(name: string): Record<string, Service> {
  return (
    parse(fs.readFileSync(path.join(ROOT, name), 'utf8'), { merge: true }) as {
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
  // The long-running processes; `migrate` runs once before them and holds only the database settings.
  const processes = Object.entries(services).filter(([name]) => name !== 'postgres' && name !== 'migrate');
  const subgraphs = Object.keys(SUBGRAPHS) as SubgraphName[];

  it('has postgres, the gateway and every subgraph as its own service, and no sandbox', () => {
    for (const name of ['postgres', 'gateway', ...Object.keys(SUBGRAPHS)]) expect(services).toHaveProperty([name]);
    expect(services).not.toHaveProperty(['sandbox']);
  });

  it.each(Object.entries(SUBGRAPHS))('runs %s on its port with its own entry point', (name, port) => {
    const service = services[name];
    expect(service.environment?.PORT).toBe(String(port));
    expect(service.expose).toContain(String(port));
    expect(service.command).toEqual(['node', 'dist/scripts/subgraph.js', name]);
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

  it('runs one image, compiled: every command is node on a dist/ file built from a source in the tree', () => {
    const containers = Object.entries(services).filter(([name]) => name !== 'postgres');
    for (const [name, service] of containers) {
      expect({ name, image: service.image }).toEqual({ name, image: services.gateway.image });
      const [node, entry] = service.command!;
      expect({ name, node }).toEqual({ name, node: 'node' });
      expect(entry).toMatch(/^dist\/.*\.js$/);
      expect(fs.existsSync(path.join(ROOT, entry.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
    }
  });

  it('keeps PostgreSQL on a named volume and runs the migration step before every subgraph', () => {
    const volumes = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')).volumes as object;
    expect(volumes).toHaveProperty(['postgres-data']);
    expect((services.postgres as { volumes?: string[] }).volumes).toEqual(['postgres-data:/var/lib/postgresql/data']);
    expect(services.migrate.command).toEqual(['node', 'dist/scripts/migrate.js']);
    expect(services.migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    for (const name of subgraphs) {
      expect({ name, depends_on: services[name].depends_on }).toEqual({
        name,
        depends_on: {
          postgres: { condition: 'service_healthy' },
          migrate: { condition: 'service_completed_successfully' },
        },
      });
      // The step ran; a subgraph that still finds a migration pending refuses to start rather than apply it.
      expect(services[name].environment?.MIGRATE_ON_START).toBe('false');
    }
  });

  it('health-checks every service, each on its own port, and starts the gateway once every subgraph is healthy', () => {
    for (const [name, service] of Object.entries(services).filter(([n]) => n !== 'migrate')) {
      expect({ name, check: Boolean(service.healthcheck?.test?.length) }).toEqual({ name, check: true });
    }
    for (const name of subgraphs) {
      expect(services[name].healthcheck?.test).toEqual([
        'CMD',
        'node',
        'dist/scripts/probe.js',
        `http://localhost:${SUBGRAPHS[name]}/health`,
      ]);
    }
    // The gateway's /health answers 503 while any subgraph is down; its own check asks for nothing a subgraph has.
    expect(services.gateway.healthcheck?.test.at(-1)).toBe(
      `http://localhost:${GATEWAY_PORT}/graphql?query=%7B__typename%7D`,
    );
    expect(services.gateway.depends_on).toEqual(
      Object.fromEntries(subgraphs.map((name) => [name, { condition: 'service_healthy' }])),
    );
  });

  it('gives the migration step the database and none of the secrets', () => {
    const environment = services.migrate.environment!;
    for (const key of [...PRODUCTION_SECRETS, ...Object.keys(PROVIDER_URLS)])
      expect(environment).not.toHaveProperty([key]);
    const config = loadConfig(interpolate(environment, DEPLOYMENT), { databaseOnly: true });
    expect(config.DATABASE_URL).toBe('postgres://postgres:a-strong-database-password@postgres:5432/postgres');
    expect(config.NODE_ENV).toBe('production');
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
        variables: [...PRODUCTION_SECRETS, ...Object.keys(PROVIDER_URLS), ...PRODUCTION_SETTINGS].sort(),
      });
    }
  });
});

describe('docker-compose.dev.yml (development override)', () => {
  const base = composeFile('docker-compose.yml');
  const dev = composeFile('docker-compose.dev.yml');

  it('adds the sandbox and publishes it and PostgreSQL', () => {
    expect(dev.sandbox.command).toEqual(['node', 'dist/sandbox/index.js']);
    expect(dev.sandbox.healthcheck?.test.at(-1)).toBe(`http://localhost:${SANDBOX_PORT}/health`);
    expect(dev.gateway.depends_on).toEqual({ sandbox: { condition: 'service_healthy' } });
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

/** Docker is not available here either: the Dockerfile is read for what the deployment relies on. */
describe('Dockerfile', () => {
  const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1)!;

  it('builds with the whole dependency tree and runs with production dependencies only', () => {
    expect(stages).toHaveLength(2);
    expect(stages[0]).toMatch(/^RUN npm ci\b(?!.*--omit)/m);
    expect(stages[0]).toMatch(/^RUN npm run build$/m);
    expect(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.build).toBeDefined();
    expect(runtime).toMatch(/^RUN npm ci --omit=dev --omit=optional\b/m);
    expect(runtime).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    // Sources stay out of the runtime stage: only package files and the build output are copied in.
    expect(runtime.match(/^COPY .*/gm)).toEqual([
      'COPY package.json package-lock.json ./',
      'COPY --from=build /app/dist ./dist',
    ]);
  });

  it('runs as the unprivileged node user in production mode, and compiled code without tsx', () => {
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^ENV NODE_ENV=production$/m);
    expect(runtime).toMatch(/^CMD \["node", "dist\/gateway\/index\.js"\]$/m);
    expect(runtime).not.toMatch(/tsx/);
  });

  it('sends no local dependencies, build output or secrets into the build context', () => {
    const ignored = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.env', '.env.*', '.data', '.git']));
  });
});
