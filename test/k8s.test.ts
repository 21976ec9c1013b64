import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { databaseUrlVariable, loadConfig, PRODUCTION_SECRETS } from '../lib/config';
import { envPrefix, GATEWAY_PORT, SUBGRAPHS, type SubgraphName } from '../lib/services';
import { BASE_DIR, baseManifests, CONFIG_MAP, SECRET, SECRET_VARIABLES } from '../scripts/k8s-manifests';
import { CONNECTIONS_KEPT_BACK, connectionsPerProcess, POSTGRES_DEFAULT_MAX_CONNECTIONS } from './support/connections';
import { type Manifest, render } from './support/kustomize';
import { startTestStack, type TestStack } from './support/e2e';

const ROOT = path.join(__dirname, '..');
const subgraphs = Object.keys(SUBGRAPHS) as SubgraphName[];
const services = ['gateway', ...subgraphs] as const;
const portOf = (service: string) => (service === 'gateway' ? GATEWAY_PORT : SUBGRAPHS[service as SubgraphName]);

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; configMapKeyRef?: unknown };
}

const rendered = render(path.join(ROOT, 'deploy', 'k8s', 'production'));
const find = (kind: string, name: string) => rendered.find((m) => m.kind === kind && m.metadata.name === name);
const containerOf = (manifest: Manifest) => manifest.spec.template.spec.containers[0];
const configMap = find('ConfigMap', CONFIG_MAP)!;
const autoscalers = rendered.filter((m) => m.kind === 'HorizontalPodAutoscaler');

/** The environment a container starts with; a Secret's value is a strong stand-in, as the operator's would be. */
function environmentOf(manifest: Manifest): Record<string, string> {
  const container = containerOf(manifest);
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    expect(source.configMapRef?.name).toBe(CONFIG_MAP);
    Object.assign(env, configMap.data);
  }
  for (const variable of (container.env ?? []) as EnvVar[]) {
    const secret = variable.valueFrom?.secretKeyRef;
    if (variable.value !== undefined) env[variable.name] = variable.value;
    else if (secret && !secret.optional)
      env[variable.name] = `${secret.key.toLowerCase()}-0123456789abcdefghijklmnopqrstuv`;
  }
  return env;
}

describe('deploy/k8s/base', () => {
  it('is what scripts/k8s-manifests.ts writes from lib/services.ts (run it after adding a subgraph)', () => {
    const expected = baseManifests();
    expect(fs.readdirSync(BASE_DIR).sort()).toEqual(Object.keys(expected).sort());
    for (const [file, documents] of Object.entries(expected)) {
      const committed = parseAllDocuments(fs.readFileSync(path.join(BASE_DIR, file), 'utf8')).map((d) => d.toJS());
      expect({ file, documents: committed }).toEqual({ file, documents: JSON.parse(JSON.stringify(documents)) });
    }
  });
});

describe('deploy/k8s/production, rendered', () => {
  it('puts everything in one namespace', () => {
    expect(find('Namespace', 'groupbuy')).toBeDefined();
    for (const manifest of rendered.filter((m) => m.kind !== 'Namespace'))
      expect({ manifest: manifest.metadata.name, namespace: manifest.metadata.namespace }).toEqual({
        manifest: manifest.metadata.name,
        namespace: 'groupbuy',
      });
  });

  it.each(services)('runs %s from the one image, with a Service on its port and a PodDisruptionBudget', (name) => {
    const deployment = find('Deployment', name)!;
    expect(deployment).toBeDefined();
    const container = containerOf(deployment);
    expect(container.image).toBe('group-buying-supergraph:0.1.0');
    expect(container.command).toEqual(
      name === 'gateway' ? ['node', 'dist/gateway/index.js'] : ['node', 'dist/scripts/subgraph.js', name],
    );
    expect(container.ports).toEqual([{ name: 'http', containerPort: portOf(name) }]);
    const podLabels = deployment.spec.template.metadata.labels;
    expect(podLabels).toMatchObject(deployment.spec.selector.matchLabels);
    const service = find('Service', name)!;
    expect(service.spec.ports).toEqual([{ name: 'http', port: portOf(name), targetPort: 'http' }]);
    expect(podLabels).toMatchObject(service.spec.selector);
    expect(podLabels).toMatchObject(find('PodDisruptionBudget', name)!.spec.selector.matchLabels);
    expect(find('PodDisruptionBudget', name)!.spec.maxUnavailable).toBe(1);
  });

  it.each(services)('gives %s requests and limits, and runs it unprivileged', (name) => {
    const deployment = find('Deployment', name)!;
    const container = containerOf(deployment);
    for (const kind of ['requests', 'limits']) {
      expect(container.resources[kind]).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    }
    expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
  });

  it.each(services)('probes %s: ready by its own check, alive by its port alone', (name) => {
    const container = containerOf(find('Deployment', name)!);
    // A lost database or subgraph makes a pod unready, never restarted: a restart would not bring either back.
    expect(container.livenessProbe.tcpSocket).toEqual({ port: 'http' });
    expect(container.startupProbe.tcpSocket).toEqual({ port: 'http' });
    const readiness = container.readinessProbe.httpGet;
    if (name === 'gateway') {
      expect(readiness.path).not.toMatch(/^\/health/);
      expect(readiness.path).toBe('/graphql?query=%7B__typename%7D');
    } else expect(readiness).toEqual({ path: '/health', port: 'http' });
  });

  it.each(services)('gives %s every variable production requires, secrets from the Secret', (name) => {
    const deployment = find('Deployment', name)!;
    const env = environmentOf(deployment);
    expect(() => loadConfig(env)).not.toThrow();
    const config = loadConfig(env);
    expect(config.NODE_ENV).toBe('production');
    const refs = (containerOf(deployment).env as EnvVar[]).filter((v) => v.valueFrom?.secretKeyRef);
    for (const key of [...PRODUCTION_SECRETS, 'WHATSAPP_PHONE_NUMBER_ID']) {
      expect(refs.find((v) => v.name === key)?.valueFrom?.secretKeyRef).toEqual({ name: SECRET, key });
    }
    if (name !== 'gateway') {
      // Its own database when the Secret has <NAME>_DATABASE_URL, else DATABASE_URL + prefix; one of them is needed.
      for (const key of ['DATABASE_URL', databaseUrlVariable(name)])
        expect(refs.find((v) => v.name === key)?.valueFrom?.secretKeyRef).toEqual({
          name: SECRET,
          key,
          optional: true,
        });
      expect(config.MIGRATE_ON_START).toBe('false');
      expect(config.portOf(name)).toBe(SUBGRAPHS[name]);
    } else expect(refs.some((v) => v.name.endsWith('DATABASE_URL'))).toBe(false);
  });

  it("reaches every subgraph's replicas through its Service", () => {
    const config = loadConfig({ ...configMap.data, NODE_ENV: 'test' });
    for (const name of subgraphs) {
      const url = new URL(config.serviceUrl(name));
      expect(configMap.data).toHaveProperty([`${envPrefix(name)}_SERVICE_URL`]);
      const service = find('Service', url.hostname);
      expect({ name, service: service?.metadata.name, port: service?.spec.ports[0].port }).toEqual({
        name,
        service: name,
        port: Number(url.port),
      });
    }
  });

  it('has no secret value anywhere: no Secret manifest, no credential in the ConfigMap or a literal', () => {
    expect(rendered.filter((m) => m.kind === 'Secret')).toEqual([]);
    const secretNames = new Set<string>([
      ...SECRET_VARIABLES,
      'DATABASE_URL',
      ...subgraphs.map((name) => databaseUrlVariable(name)),
    ]);
    for (const key of Object.keys(configMap.data!)) expect(secretNames.has(key)).toBe(false);
    for (const value of Object.values(configMap.data!)) expect(value).not.toMatch(/:\/\/[^/@]+:[^/@]+@/);
    for (const manifest of rendered.filter((m) => m.spec?.template)) {
      for (const variable of (containerOf(manifest).env ?? []) as EnvVar[]) {
        if (secretNames.has(variable.name))
          expect({ manifest: manifest.metadata.name, variable: variable.name, literal: variable.value }).toEqual({
            manifest: manifest.metadata.name,
            variable: variable.name,
            literal: undefined,
          });
      }
    }
  });

  it('runs every migration as a Job of its own with the database settings only', () => {
    const job = find('Job', 'migrate')!;
    const container = containerOf(job);
    expect(container.command).toEqual(['node', 'dist/scripts/migrate.js']);
    expect(container.image).toBe('group-buying-supergraph:0.1.0');
    const names = (container.env as EnvVar[]).map((v) => v.name);
    expect(names).toEqual(
      expect.arrayContaining(['DATABASE_URL', ...subgraphs.map((name) => databaseUrlVariable(name))]),
    );
    for (const key of PRODUCTION_SECRETS) expect(names).not.toContain(key);
    expect(container.envFrom).toBeUndefined();
    expect(() =>
      loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db:5432/postgres' }, { databaseOnly: true }),
    ).not.toThrow();
  });

  it('autoscales the gateway and the busiest subgraphs, and runs two or more of everything else', () => {
    expect(autoscalers.map((hpa) => hpa.metadata.name).sort()).toEqual(
      ['gateway', 'group-buying', 'order', 'payment', 'product'].sort(),
    );
    for (const hpa of autoscalers) {
      const target = find('Deployment', hpa.spec.scaleTargetRef.name)!;
      expect(target).toBeDefined();
      // A replica count in the Deployment would fight the autoscaler on every apply.
      expect(target.spec.replicas).toBeUndefined();
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    }
    for (const name of services.filter((n) => !autoscalers.some((hpa) => hpa.metadata.name === n))) {
      expect({ name, replicas: find('Deployment', name)!.spec.replicas }).toEqual({ name, replicas: 2 });
    }
  });

  it("keeps each subgraph's connections at its most replicas within a PostgreSQL of its own", () => {
    const config = loadConfig({ ...configMap.data, NODE_ENV: 'test' });
    for (const name of subgraphs) {
      const hpa = autoscalers.find((m) => m.metadata.name === name);
      const replicas: number = hpa?.spec.maxReplicas ?? find('Deployment', name)!.spec.replicas;
      const connections = replicas * connectionsPerProcess(name, config);
      expect({ name, connections: connections <= POSTGRES_DEFAULT_MAX_CONNECTIONS - CONNECTIONS_KEPT_BACK }).toEqual({
        name,
        connections: true,
      });
    }
  });
});

/** The gateway's probes against the real gateway, with no subgraph running at all. */
describe('the gateway probes, every subgraph down', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ subgraphs: [] });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('stays ready by its own check while its /health reports the subgraphs as down', async () => {
    const readiness = containerOf(find('Deployment', 'gateway')!).readinessProbe.httpGet;
    const headers = Object.fromEntries(
      (readiness.httpHeaders as { name: string; value: string }[]).map((h) => [h.name, h.value]),
    );
    const ready = await fetch(`${stack.gatewayUrl}${readiness.path}`, { headers });
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ data: { __typename: 'Query' } });
    const health = await fetch(`${stack.gatewayUrl}/health`);
    expect(health.status).toBe(503);
    // Without the preflight header the same GET is refused (CSRF prevention), so the header is what makes it pass.
    expect((await fetch(`${stack.gatewayUrl}${readiness.path}`)).status).toBe(400);
  });
});
