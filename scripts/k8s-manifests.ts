import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { databaseUrlVariable, PRODUCTION_SECRETS, PROVIDER_URLS } from '../lib/config';
import { envPrefix, GATEWAY_PORT, SUBGRAPHS, type SubgraphName } from '../lib/services';

/**
 * `npx tsx scripts/k8s-manifests.ts`: writes deploy/k8s/base from lib/services.ts (a Deployment, Service and
 * PodDisruptionBudget per subgraph and the gateway, the ConfigMap, the migration Job), so a subgraph added there
 * is deployed too; test/k8s.test.ts fails while the files are stale. deploy/k8s/production is written by hand.
 */
export const BASE_DIR = path.join(__dirname, '..', 'deploy', 'k8s', 'base');
export const IMAGE = 'group-buying-supergraph';
export const CONFIG_MAP = 'groupbuy-config';
/** Created by the operator (README "Deploying"), never committed: every value in it is a secret or the deployment's own. */
export const SECRET = 'groupbuy-secrets';
/** Deployment-specific values read from the Secret: the secrets production checks, and WhatsApp's sender id. */
export const SECRET_VARIABLES = [...PRODUCTION_SECRETS, 'WHATSAPP_PHONE_NUMBER_ID'] as const;
const PART_OF = 'group-buying';

type Manifest = Record<string, unknown>;
type Service = SubgraphName | 'gateway';

function labels(name: string, component: string) {
  return {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': PART_OF,
  };
}

const secretRef = (key: string, optional = false) => ({
  name: key,
  valueFrom: { secretKeyRef: { name: SECRET, key, ...(optional ? { optional: true } : {}) } },
});

/** A subgraph's database: its own `<NAME>_DATABASE_URL` when the Secret has one, else the shared `DATABASE_URL`. */
const databaseEnv = (name: SubgraphName) => [
  secretRef('DATABASE_URL', true),
  secretRef(databaseUrlVariable(name), true),
];

function configMap(): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: CONFIG_MAP, labels: labels(CONFIG_MAP, 'config') },
    data: {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      DB_PREFIX: 'groupbuy',
      DB_POOL_MAX: '5',
      // The migration Job applies every migration before a rollout; a pod finding one pending refuses to start.
      MIGRATE_ON_START: 'false',
      ...PROVIDER_URLS,
      // The gateway is reached through the cluster's ingress, from a private address that may name the client.
      TRUST_PROXY: 'uniquelocal',
      // Each subgraph's Service: the gateway and callers reach every replica through it, with no list of replicas.
      ...Object.fromEntries(
        (Object.keys(SUBGRAPHS) as SubgraphName[]).map((name) => [
          `${envPrefix(name)}_SERVICE_URL`,
          `http://${name}:${SUBGRAPHS[name]}`,
        ]),
      ),
    },
  };
}

/** Readiness is the process's own: a subgraph's /health (its database), the gateway's GraphQL without any subgraph. */
function readinessOf(service: Service) {
  if (service !== 'gateway') return { httpGet: { path: '/health', port: 'http' } };
  return {
    // The gateway's /health reports the subgraphs (503 while one is down), which must not take every gateway
    // out of the Service; `{ __typename }` is answered by the gateway alone. The header passes CSRF prevention.
    httpGet: {
      path: '/graphql?query=%7B__typename%7D',
      port: 'http',
      httpHeaders: [{ name: 'apollo-require-preflight', value: 'true' }],
    },
  };
}

function deployment(service: Service): Manifest {
  const port = service === 'gateway' ? GATEWAY_PORT : SUBGRAPHS[service];
  const component = service === 'gateway' ? 'gateway' : 'subgraph';
  const command =
    service === 'gateway' ? ['node', 'dist/gateway/index.js'] : ['node', 'dist/scripts/subgraph.js', service];
  const resources =
    service === 'gateway'
      ? { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '768Mi' } }
      : { requests: { cpu: '100m', memory: '192Mi' }, limits: { cpu: '1', memory: '512Mi' } };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: service, labels: labels(service, component) },
    spec: {
      // No replicas: 1 by default, set by the overlay or its HorizontalPodAutoscaler.
      selector: { matchLabels: { 'app.kubernetes.io/name': service } },
      template: {
        metadata: { labels: labels(service, component) },
        spec: {
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 },
          // No <SERVICE>_PORT/_HOST variables for every Service in the namespace: configuration is ours alone.
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: service,
              image: IMAGE,
              command,
              ports: [{ name: 'http', containerPort: port }],
              envFrom: [{ configMapRef: { name: CONFIG_MAP } }],
              env: [
                ...SECRET_VARIABLES.map((key) => secretRef(key)),
                ...(service === 'gateway' ? [] : [{ name: 'PORT', value: String(port) }, ...databaseEnv(service)]),
              ],
              resources,
              // Started once it listens; alive while it accepts connections, whatever its database or the
              // subgraphs are doing (a restart would not bring them back); ready by its own check.
              startupProbe: { tcpSocket: { port: 'http' }, periodSeconds: 2, failureThreshold: 60 },
              livenessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 10, failureThreshold: 3 },
              readinessProbe: { ...readinessOf(service), periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 2 },
              // The Service stops sending new requests before SIGTERM starts the graceful drain.
              lifecycle: { preStop: { exec: { command: ['sleep', '5'] } } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: {} }],
        },
      },
    },
  };
}

function kubernetesService(service: Service): Manifest {
  const port = service === 'gateway' ? GATEWAY_PORT : SUBGRAPHS[service];
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: service, labels: labels(service, service === 'gateway' ? 'gateway' : 'subgraph') },
    spec: {
      selector: { 'app.kubernetes.io/name': service },
      ports: [{ name: 'http', port, targetPort: 'http' }],
    },
  };
}

function disruptionBudget(service: Service): Manifest {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: service, labels: labels(service, service === 'gateway' ? 'gateway' : 'subgraph') },
    spec: { maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': service } } },
  };
}

/** Every subgraph's pending migrations (scripts/migrate.ts), run before a rollout; it holds only database settings. */
function migrationJob(): Manifest {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'migrate', labels: labels('migrate', 'migrate') },
    spec: {
      backoffLimit: 3,
      // Gone ten minutes after it finished, so the next release's Job can be applied under the same name.
      ttlSecondsAfterFinished: 600,
      template: {
        metadata: { labels: labels('migrate', 'migrate') },
        spec: {
          restartPolicy: 'OnFailure',
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 },
          containers: [
            {
              name: 'migrate',
              image: IMAGE,
              command: ['node', 'dist/scripts/migrate.js'],
              env: [
                { name: 'NODE_ENV', value: 'production' },
                { name: 'DB_PREFIX', valueFrom: { configMapKeyRef: { name: CONFIG_MAP, key: 'DB_PREFIX' } } },
                secretRef('DATABASE_URL', true),
                ...(Object.keys(SUBGRAPHS) as SubgraphName[]).map((name) => secretRef(databaseUrlVariable(name), true)),
              ],
              resources: { requests: { cpu: '100m', memory: '192Mi' }, limits: { cpu: '1', memory: '512Mi' } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: {} }],
        },
      },
    },
  };
}

/** The base, file name → its documents. */
export function baseManifests(): Record<string, Manifest[]> {
  const services: Service[] = ['gateway', ...(Object.keys(SUBGRAPHS) as SubgraphName[])];
  const files: Record<string, Manifest[]> = {
    'config.yaml': [configMap()],
    'migrate-job.yaml': [migrationJob()],
  };
  for (const service of services)
    files[`${service}.yaml`] = [deployment(service), kubernetesService(service), disruptionBudget(service)];
  files['kustomization.yaml'] = [
    {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: Object.keys(files),
    },
  ];
  return files;
}

const HEADER = '# Generated by scripts/k8s-manifests.ts from lib/services.ts: edit the script, not this file.\n';

function write(): void {
  fs.rmSync(BASE_DIR, { recursive: true, force: true });
  fs.mkdirSync(BASE_DIR, { recursive: true });
  for (const [file, documents] of Object.entries(baseManifests())) {
    const text = documents.map((document) => stringify(document, { lineWidth: 0, singleQuote: true })).join('---\n');
    fs.writeFileSync(path.join(BASE_DIR, file), HEADER + text);
  }
}

if (require.main === module) write();
