import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
};

/** The kustomization fields deploy/k8s uses; render() refuses any other, so nothing is silently left out. */
const KNOWN = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'images', 'replicas', 'patches']);

interface Kustomization {
  namespace?: string;
  resources?: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
  replicas?: { name: string; count: number }[];
  patches?: { path: string }[];
}

function readDocuments(file: string): Manifest[] {
  return parseAllDocuments(fs.readFileSync(file, 'utf8')).map((document) => document.toJS() as Manifest);
}

/** Strategic merge as kustomize does it for these manifests: maps merge, lists of named items merge by name. */
function merge(target: any, patch: any): any {
  if (Array.isArray(target) && Array.isArray(patch)) {
    if (!patch.every((item) => item && typeof item === 'object' && 'name' in item)) return patch;
    const merged = [...target];
    for (const item of patch) {
      const at = merged.findIndex((existing) => existing?.name === item.name);
      if (at === -1) merged.push(item);
      else merged[at] = merge(merged[at], item);
    }
    return merged;
  }
  if (target && patch && typeof target === 'object' && typeof patch === 'object' && !Array.isArray(patch)) {
    const merged = { ...target };
    for (const [key, value] of Object.entries(patch)) merged[key] = key in target ? merge(target[key], value) : value;
    return merged;
  }
  return patch;
}

function podSpecOf(manifest: Manifest): any {
  return manifest.spec?.template?.spec;
}

/**
 * `kustomize build <dir>` for what deploy/k8s uses (resources, patches, replicas, images, namespace, in kustomize's
 * order), so the tests see the manifests a cluster would get without a kustomize binary.
 */
export function render(dir: string): Manifest[] {
  const kustomization = readDocuments(path.join(dir, 'kustomization.yaml'))[0] as unknown as Kustomization;
  const unknown = Object.keys(kustomization).filter((key) => !KNOWN.has(key));
  if (unknown.length) throw new Error(`${dir}/kustomization.yaml uses ${unknown.join(', ')}, which render() does not`);
  let manifests: Manifest[] = [];
  for (const resource of kustomization.resources ?? []) {
    const target = path.join(dir, resource);
    manifests.push(...(fs.statSync(target).isDirectory() ? render(target) : readDocuments(target)));
  }
  for (const { path: file } of kustomization.patches ?? []) {
    for (const patch of readDocuments(path.join(dir, file))) {
      const at = manifests.findIndex((m) => m.kind === patch.kind && m.metadata.name === patch.metadata.name);
      if (at === -1) throw new Error(`${file} patches ${patch.kind} ${patch.metadata.name}, which is not there`);
      manifests[at] = merge(manifests[at], patch);
    }
  }
  for (const { name, count } of kustomization.replicas ?? []) {
    const target = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === name);
    if (!target) throw new Error(`replicas names ${name}, which has no Deployment`);
    target.spec.replicas = count;
  }
  for (const image of kustomization.images ?? []) {
    for (const manifest of manifests) {
      for (const container of podSpecOf(manifest)?.containers ?? []) {
        if (container.image.split(':')[0] !== image.name) continue;
        container.image = `${image.newName ?? image.name}${image.newTag ? `:${image.newTag}` : ''}`;
      }
    }
  }
  if (kustomization.namespace) {
    manifests = manifests.map((m) =>
      m.kind === 'Namespace' ? m : { ...m, metadata: { ...m.metadata, namespace: kustomization.namespace } },
    );
  }
  return manifests;
}
