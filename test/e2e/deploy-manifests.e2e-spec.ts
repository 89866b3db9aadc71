import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as yaml from 'js-yaml';

/**
 * The deployment files describe one topology — N API replicas on one PostgreSQL and one Redis, a load balancer in
 * front, the reference agent, migrations as a one-off run before the replicas — and this file checks them without a
 * cluster or a Docker engine:
 * - deploy/kubernetes/overlays/example (and optional/*) is rendered by a small kustomize (only the fields the layout uses; any other
 *   field fails), cross-checked against `kubectl kustomize` where kubectl is installed, and every object is validated
 *   against the Kubernetes v1.34 JSON schemas vendored in deploy/kubernetes/schemas, made strict (unknown fields fail);
 * - docker-compose.yml and the manifests run the same commands on the same image;
 * - deploy/compose/nginx.conf passes the real `nginx -t` and, run by the real nginx in front of two local backends,
 *   balances round robin, retries a GET that a draining replica refused and never re-sends a POST.
 * The nginx checks are skipped, with the reason logged, where nginx is not installed (`.ci/run` installs nginx-light).
 */

const ROOT = path.resolve(__dirname, '../..');
const K8S = path.join(ROOT, 'deploy/kubernetes');
const OVERLAY = path.join(K8S, 'overlays/example');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
interface K8sObject extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: { [key: string]: string } } & JsonObject;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
function loadYamlDocuments(file: string): K8sObject[] {
  return yaml.loadAll(fs.readFileSync(file, 'utf8')).filter((doc) => doc !== null && doc !== undefined) as K8sObject[];
}
const key = (o: { kind: string; metadata: { name: string } }) => `${o.kind}/${o.metadata.name}`;

// ---- kustomize, the subset this layout uses -------------------------------------------------------------------------

interface Generator {
  name: string;
  behavior?: 'create' | 'merge' | 'replace';
  envs?: string[];
  literals?: string[];
  type?: string;
}
interface Kustomization {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  resources?: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
  replicas?: { name: string; count: number }[];
  patches?: { target: { kind?: string; name?: string }; patch: string }[];
  configMapGenerator?: Generator[];
  secretGenerator?: Generator[];
}
const SUPPORTED_FIELDS = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'images', 'replicas', 'patches', 'configMapGenerator', 'secretGenerator']);
const SUPPORTED_GENERATOR_FIELDS = new Set(['name', 'behavior', 'envs', 'literals', 'type']);
/** Generated ConfigMaps/Secrets keep their plain name until the outermost layer hashes them (as kustomize does). */
interface Layer {
  objects: K8sObject[];
  generated: Set<string>;
}

/** kustomize's env-file rules: leading blanks trimmed, blank and `#` lines skipped, split at the first `=`, value literal. */
function readEnvFile(file: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) continue;
    const at = line.indexOf('=');
    if (at < 0) throw new Error(`${file}: "${line}" has no "=" (taking values from the environment is not supported here)`);
    const name = line.slice(0, at);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`${file}: "${name}" is not a valid variable name`);
    pairs.push([name, line.slice(at + 1)]);
  }
  return pairs;
}
/** Secret values as kustomize writes them: base64, cut into 70-character lines each ending in \n once longer than that. */
function kustomizeBase64(value: string): string {
  const encoded = Buffer.from(value).toString('base64');
  if (encoded.length < 70) return encoded;
  return encoded.match(/.{1,70}/g)!.map((line) => `${line}\n`).join('');
}
function readLiteral(literal: string): [string, string] {
  const at = literal.indexOf('=');
  if (at <= 0) throw new Error(`literal "${literal}" is not KEY=value`);
  const value = literal.slice(at + 1);
  const quoted = value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0];
  return [literal.slice(0, at), quoted ? value.slice(1, -1) : value];
}

/** JSON pointer (RFC 6901) → parent container and last token. */
function resolvePointer(root: Json, pointer: string): { parent: JsonObject | Json[]; token: string } {
  const tokens = pointer.split('/').slice(1).map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node: Json = root;
  for (const token of tokens.slice(0, -1)) {
    node = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : null;
    if (node === undefined || node === null || typeof node !== 'object') throw new Error(`patch path ${pointer}: ${token} not found`);
  }
  return { parent: node as JsonObject | Json[], token: tokens.at(-1)! };
}
function applyJson6902(target: K8sObject, operations: Json): void {
  if (!Array.isArray(operations)) throw new Error(`patch for ${key(target)} is not a list of RFC 6902 operations (strategic merge patches are not supported here)`);
  for (const operation of operations) {
    if (!isObject(operation) || typeof operation.path !== 'string') throw new Error(`bad patch operation ${JSON.stringify(operation)}`);
    const { parent, token } = resolvePointer(target, operation.path);
    const value = clone(operation.value ?? null);
    const index = token === '-' && Array.isArray(parent) ? parent.length : Number(token);
    switch (operation.op) {
      case 'add':
        if (Array.isArray(parent)) parent.splice(index, 0, value);
        else parent[token] = value;
        break;
      case 'replace':
      case 'remove': {
        const exists = Array.isArray(parent) ? index < parent.length : token in parent;
        if (!exists) throw new Error(`patch ${operation.op} ${operation.path} on ${key(target)}: no such field`);
        if (Array.isArray(parent)) parent.splice(index, 1, ...(operation.op === 'replace' ? [value] : []));
        else if (operation.op === 'replace') parent[token] = value;
        else delete parent[token];
        break;
      }
      default:
        throw new Error(`patch operation ${String(operation.op)} is not supported here`);
    }
  }
}

function podSpecs(object: K8sObject): JsonObject[] {
  const template = isObject(object.spec) && isObject(object.spec.template) ? object.spec.template : undefined;
  return template && isObject(template.spec) ? [template.spec] : [];
}
function containersOf(spec: JsonObject): JsonObject[] {
  return [...((spec.initContainers as JsonObject[] | undefined) ?? []), ...((spec.containers as JsonObject[] | undefined) ?? [])];
}

function renderLayer(dir: string): Layer {
  const file = path.join(dir, 'kustomization.yaml');
  const k = yaml.load(fs.readFileSync(file, 'utf8')) as Kustomization;
  for (const field of Object.keys(k)) {
    if (!SUPPORTED_FIELDS.has(field)) throw new Error(`${path.relative(ROOT, file)}: field "${field}" is not supported by this test's kustomize subset`);
  }
  const objects: K8sObject[] = [];
  const generated = new Set<string>();
  for (const resource of k.resources ?? []) {
    const full = path.resolve(dir, resource);
    if (fs.statSync(full).isDirectory()) {
      const sub = renderLayer(full);
      objects.push(...sub.objects);
      sub.generated.forEach((g) => generated.add(g));
    } else {
      objects.push(...loadYamlDocuments(full));
    }
  }

  const generators: [string, Generator][] = [
    ...(k.configMapGenerator ?? []).map((g): [string, Generator] => ['ConfigMap', g]),
    ...(k.secretGenerator ?? []).map((g): [string, Generator] => ['Secret', g]),
  ];
  for (const [kind, generator] of generators) {
    for (const field of Object.keys(generator)) {
      if (!SUPPORTED_GENERATOR_FIELDS.has(field)) throw new Error(`${path.relative(ROOT, file)}: generator field "${field}" is not supported here`);
    }
    const pairs = [...(generator.envs ?? []).flatMap((env) => readEnvFile(path.resolve(dir, env))), ...(generator.literals ?? []).map(readLiteral)];
    const data: { [name: string]: string } = {};
    for (const [name, value] of pairs) {
      if (name in data) throw new Error(`${generator.name}: ${name} given twice`);
      data[name] = kind === 'Secret' ? kustomizeBase64(value) : value;
    }
    const existing = objects.find((o) => o.kind === kind && o.metadata.name === generator.name);
    const behavior = generator.behavior ?? 'create';
    if (behavior === 'create') {
      if (existing) throw new Error(`${kind} ${generator.name} is generated twice (use behavior: merge)`);
      const object: K8sObject = { apiVersion: 'v1', kind, metadata: { name: generator.name }, data };
      if (kind === 'Secret') object.type = generator.type ?? 'Opaque';
      objects.push(object);
      generated.add(`${kind}/${generator.name}`);
    } else {
      if (!existing || !generated.has(`${kind}/${generator.name}`)) throw new Error(`${kind} ${generator.name}: nothing generated to ${behavior}`);
      existing.data = behavior === 'merge' ? { ...(existing.data as JsonObject), ...data } : data;
    }
  }

  for (const { target, patch } of k.patches ?? []) {
    const matches = objects.filter((o) => (!target.kind || o.kind === target.kind) && (!target.name || o.metadata.name === target.name));
    if (matches.length === 0) throw new Error(`patch target ${JSON.stringify(target)} matches nothing`);
    for (const object of matches) applyJson6902(object, yaml.load(patch) as Json);
  }
  if (k.namespace) {
    for (const object of objects) if (object.kind !== 'Namespace') object.metadata.namespace = k.namespace;
  }
  for (const image of k.images ?? []) {
    for (const container of objects.flatMap(podSpecs).flatMap(containersOf)) {
      const match = /^([^@]+?)(?::([^:/@]+))?(@.+)?$/.exec(String(container.image));
      if (!match || match[1] !== image.name) continue;
      const tag = image.newTag ?? match[2];
      container.image = `${image.newName ?? match[1]}${tag ? `:${tag}` : ''}${match[3] ?? ''}`;
    }
  }
  for (const { name, count } of k.replicas ?? []) {
    const targets = objects.filter((o) => ['Deployment', 'StatefulSet', 'ReplicaSet'].includes(o.kind) && o.metadata.name === name);
    if (targets.length === 0) throw new Error(`replicas: ${name} matches no workload`);
    for (const object of targets) (object.spec as JsonObject).replicas = count;
  }
  return { objects, generated };
}

/** Go's encoding/json escapes <, >, & and U+2028/2029, which JSON.stringify leaves as they are. */
function goJson(value: Json): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
function sortedKeys(object: JsonObject): JsonObject {
  return Object.fromEntries(Object.keys(object).sort().map((k) => [k, object[k]]));
}
/**
 * A content hash for generated names, shaped like kustomize's (10 characters, 0/1/3/a/e replaced): sha256 of kind, name,
 * type and data as sorted JSON. Its value differs from kustomize's, so the comparison with kubectl masks it.
 */
function contentHash(object: K8sObject): string {
  const fields: JsonObject = { kind: object.kind, name: object.metadata.name, data: sortedKeys((object.data as JsonObject) ?? {}) };
  if (object.kind === 'Secret') fields.type = object.type ?? 'Opaque';
  const hex = createHash('sha256').update(goJson(sortedKeys(fields))).digest('hex');
  return hex.slice(0, 10).replace(/[013ae]/g, (c) => ({ '0': 'g', '1': 'h', '3': 'k', a: 'm', e: 't' })[c]!);
}

/** Renders an overlay: its layers, then hash suffixes on generated names and the references to them rewritten. */
function kustomizeBuild(dir: string): K8sObject[] {
  const { objects, generated } = renderLayer(dir);
  const renamed = new Map<string, string>();
  for (const object of objects) {
    if (!generated.has(key(object))) continue;
    const name = `${object.metadata.name}-${contentHash(object)}`;
    renamed.set(key(object), name);
    object.metadata.name = name;
  }
  const rename = (ref: Json | undefined, kind: string, field = 'name') => {
    if (isObject(ref) && typeof ref[field] === 'string') ref[field] = renamed.get(`${kind}/${ref[field]}`) ?? ref[field];
  };
  for (const spec of objects.flatMap(podSpecs)) {
    for (const container of containersOf(spec)) {
      for (const from of (container.envFrom as JsonObject[] | undefined) ?? []) {
        rename(from.configMapRef, 'ConfigMap');
        rename(from.secretRef, 'Secret');
      }
      for (const env of (container.env as JsonObject[] | undefined) ?? []) {
        const valueFrom = isObject(env.valueFrom) ? env.valueFrom : {};
        rename(valueFrom.configMapKeyRef, 'ConfigMap');
        rename(valueFrom.secretKeyRef, 'Secret');
      }
    }
    for (const volume of (spec.volumes as JsonObject[] | undefined) ?? []) {
      rename(volume.configMap, 'ConfigMap');
      rename(volume.secret, 'Secret', 'secretName');
    }
  }
  return objects;
}

// ---- schemas ----------------------------------------------------------------------------------------------------

type Schema = { [keyword: string]: Json };

/** What the `-strict` schema sets do: an object schema listing properties takes no others. */
function makeStrict(schema: Json): void {
  if (!isObject(schema)) return;
  delete schema.$schema;
  if (isObject(schema.properties)) {
    if (schema.additionalProperties === undefined) schema.additionalProperties = false;
    Object.values(schema.properties).forEach(makeStrict);
  }
  if (isObject(schema.additionalProperties)) makeStrict(schema.additionalProperties);
  if (isObject(schema.items)) makeStrict(schema.items);
  for (const combinator of ['oneOf', 'anyOf', 'allOf'] as const) {
    const list = schema[combinator];
    if (Array.isArray(list)) list.forEach(makeStrict);
  }
}

/** deployment-apps-v1.json, service-v1.json, networkpolicy-networking-v1.json … (the vendored files' naming). */
function schemaFile(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return [kind.toLowerCase(), group.split('.')[0], version].filter(Boolean).join('-') + '.json';
}

class ManifestValidator {
  private readonly ajv = new Ajv({ allErrors: true, strict: false });
  private readonly compiled = new Map<string, ValidateFunction>();
  constructor() {
    addFormats(this.ajv);
    const int = (bits: number) => ({ type: 'number' as const, validate: (n: number) => Number.isInteger(n) && Math.abs(n) <= 2 ** (bits - 1) });
    this.ajv.addFormat('int32', int(32));
    this.ajv.addFormat('int64', int(64));
  }
  get schemasUsed(): string[] {
    return [...this.compiled.keys()].sort();
  }
  /** Problems of one object, as `path: message` lines; empty when valid. */
  problems(object: K8sObject): string[] {
    const file = schemaFile(String(object.apiVersion), String(object.kind));
    let validate = this.compiled.get(file);
    if (!validate) {
      const full = path.join(K8S, 'schemas', file);
      if (!fs.existsSync(full)) return [`no schema for ${object.apiVersion} ${object.kind} (deploy/kubernetes/schemas/${file})`];
      const schema = JSON.parse(fs.readFileSync(full, 'utf8')) as Schema;
      makeStrict(schema);
      validate = this.ajv.compile(schema);
      this.compiled.set(file, validate);
    }
    if (validate(object)) return [];
    return (validate.errors ?? []).map((e: ErrorObject) => {
      const extra = e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty: string }).additionalProperty)})` : '';
      return `${e.instancePath || '/'}: ${e.message}${extra}`;
    });
  }
}

/** Objects by kind/name, with the hash suffix of generated names (`<name>-<10 characters>`) replaced by `-HASH`. */
function canonical(objects: K8sObject[], generatedNames: string[]): { [id: string]: Json } {
  const byKey = Object.fromEntries(objects.map((o) => [key(o), o as Json]).sort(([a], [b]) => String(a).localeCompare(String(b))));
  const suffix = new RegExp(`\\b(${generatedNames.join('|')})-[a-z0-9]{10}\\b`, 'g');
  return JSON.parse(JSON.stringify(byKey).replace(suffix, '$1-HASH')) as { [id: string]: Json };
}
/** Figures and skip reasons on stdout, as the other e2e files print theirs. */
function report(line: string): void {
  process.stdout.write(`${line}\n`);
}
function have(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;
}

// ---- the tests ----------------------------------------------------------------------------------------------------

describe('deployment manifests (kustomize render, Kubernetes JSON schemas, compose, nginx)', () => {
  let rendered: K8sObject[];
  const validator = new ManifestValidator();
  const find = (kind: string, name: string) => {
    const found = rendered.find((o) => o.kind === kind && o.metadata.name.startsWith(name));
    if (!found) throw new Error(`${kind} ${name} not rendered`);
    return found;
  };
  const podSpec = (object: K8sObject) => podSpecs(object)[0];
  const container = (object: K8sObject, name?: string) => {
    const all = containersOf(podSpec(object)).filter((c) => !name || c.name === name);
    return all.at(-1)!;
  };

  beforeAll(() => {
    rendered = kustomizeBuild(OVERLAY);
  });

  it('renders the example overlay as kubectl kustomize does (where kubectl is installed; hash suffixes aside)', () => {
    if (!have('kubectl')) {
      report('skipped the comparison with kubectl kustomize: kubectl is not installed');
      return;
    }
    const run = spawnSync('kubectl', ['kustomize', OVERLAY], { encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const real = yaml.loadAll(run.stdout) as K8sObject[];
    const generatedNames = ['countersign-config', 'countersign-secrets'];
    for (const name of generatedNames) {
      expect(rendered.filter((o) => new RegExp(`^${name}-[a-z0-9]{10}$`).test(o.metadata.name))).toHaveLength(1);
      expect(real.filter((o) => new RegExp(`^${name}-[a-z0-9]{10}$`).test(o.metadata.name))).toHaveLength(1);
    }
    expect(canonical(rendered, generatedNames)).toEqual(canonical(real, generatedNames));
    const versions = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).join(', ');
    report(`kubectl kustomize (${versions}) renders the same ${real.length} objects (hash suffixes of generated names aside)`);
  });

  it('fails on kustomization fields the subset does not implement, rather than ignoring them', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-kustomize-'));
    fs.writeFileSync(path.join(dir, 'kustomization.yaml'), 'resources: []\ncommonLabels: { a: b }\n');
    expect(() => kustomizeBuild(dir)).toThrow('field "commonLabels" is not supported');
  });

  it('validates every rendered object and every optional manifest against its Kubernetes schema', () => {
    // optional/<name>/ are kustomizations an overlay may add to its resources.
    const optional = fs.readdirSync(path.join(K8S, 'optional')).map((d) => path.join(K8S, 'optional', d));
    const objects = [...rendered, ...optional.flatMap((dir) => renderLayer(dir).objects)];
    const invalid = objects.map((o) => ({ object: key(o), problems: validator.problems(o) })).filter((r) => r.problems.length > 0);
    expect(invalid).toEqual([]);
    expect(objects.length).toBeGreaterThanOrEqual(14);
    report(`${objects.length} objects valid (${rendered.length} rendered from overlays/example, ${objects.length - rendered.length} from optional/) against ${validator.schemasUsed.length} schemas: ${validator.schemasUsed.join(', ')}`);
  });

  it('refuses broken manifests: a misspelt field, a wrong type, a missing required field, a kind without schema', () => {
    const api = find('Deployment', 'countersign-api');
    const misspelt = clone(api);
    const probe = container(misspelt).readinessProbe;
    delete container(misspelt).readinessProbe;
    container(misspelt).readinesProbe = probe;
    const wrongType = clone(api);
    (wrongType.spec as JsonObject).replicas = 'three';
    const noImage = clone(find('Job', 'countersign-migrate'));
    delete container(noImage).name;
    const unknownKind = { ...clone(api), apiVersion: 'apps/v1', kind: 'Deploymnet' };

    const problems = {
      misspelt: validator.problems(misspelt),
      wrongType: validator.problems(wrongType),
      noName: validator.problems(noImage),
      unknownKind: validator.problems(unknownKind),
    };
    expect(problems.misspelt).toContain('/spec/template/spec/containers/0: must NOT have additional properties (readinesProbe)');
    expect(problems.wrongType).toContain('/spec/replicas: must be integer,null');
    expect(problems.noName).toContain("/spec/template/spec/containers/0: must have required property 'name'");
    expect(problems.unknownKind).toEqual(['no schema for apps/v1 Deploymnet (deploy/kubernetes/schemas/deploymnet-apps-v1.json)']);
    report(`broken manifests refused:\n${Object.entries(problems).map(([what, p]) => `  ${what}: ${p.join('; ')}`).join('\n')}`);
  });

  it('describes the topology: API replicas behind a Service on Redis, the migration Job on the same image, the agent', () => {
    const api = find('Deployment', 'countersign-api');
    const apiContainer = container(api, 'api');
    const image = String(apiContainer.image);
    expect(image).toBe('registry.example.com/countersign:0.1.0');
    expect((api.spec as JsonObject).replicas).toBe(3);
    const probePath = (p: Json) => ((p as JsonObject).httpGet as JsonObject).path;
    expect([probePath(apiContainer.startupProbe), probePath(apiContainer.livenessProbe), probePath(apiContainer.readinessProbe)]).toEqual(['/livez', '/livez', '/readyz']);

    // The one-off migration: the command that exists in the repository (and in the image), the API's image.
    const job = find('Job', 'countersign-migrate');
    expect(container(job).command).toEqual(['node', 'scripts/migrate.js']);
    expect(container(job).image).toBe(image);
    expect(fs.existsSync(path.join(ROOT, 'scripts/migrate.js'))).toBe(true);

    // The agent talks to the API Service; its entry is built from agent/main.ts.
    const agent = find('Deployment', 'countersign-agent');
    expect(container(agent, 'agent').command).toEqual(['node', 'dist/agent/main.js']);
    expect(container(agent, 'agent').args).toEqual(expect.arrayContaining(['--url', 'http://countersign-api:8000']));
    expect(containersOf(podSpec(agent)).map((c) => c.image)).toEqual([image, image]);
    expect(fs.existsSync(path.join(ROOT, 'agent/main.ts'))).toBe(true);

    // Services select the pods they name; REDIS_URL points at the Redis Service.
    const selects = (service: K8sObject, workload: K8sObject) => {
      const labels = (((workload.spec as JsonObject).template as JsonObject).metadata as JsonObject).labels as JsonObject;
      return Object.entries((service.spec as JsonObject).selector as JsonObject).every(([k, v]) => labels[k] === v);
    };
    expect(selects(find('Service', 'countersign-api'), api)).toBe(true);
    expect(selects(find('Service', 'countersign-redis'), find('Deployment', 'countersign-redis'))).toBe(true);
    expect(selects(find('Service', 'countersign-api'), agent)).toBe(false);
    const config = find('ConfigMap', 'countersign-config').data as JsonObject;
    expect(config.REDIS_URL).toBe('redis://countersign-redis:6379');
    expect(config.TRUST_PROXY).toBe('10.0.0.0/8'); // the overlay's merge won over base/config.env

    // Every reference to a ConfigMap or Secret resolves to a rendered one (the agent's enrollment Secret is optional).
    const names = new Set(rendered.map(key));
    for (const workload of rendered.filter((o) => podSpecs(o).length > 0)) {
      for (const c of containersOf(podSpec(workload))) {
        for (const from of (c.envFrom as JsonObject[] | undefined) ?? []) {
          const [kind, ref] = from.configMapRef ? ['ConfigMap', from.configMapRef] : ['Secret', from.secretRef];
          expect(names.has(`${kind}/${String((ref as JsonObject).name)}`)).toBe(true);
        }
        for (const env of (c.env as JsonObject[] | undefined) ?? []) {
          const ref = (env.valueFrom as JsonObject).secretKeyRef as JsonObject;
          expect(ref.optional === true || names.has(`Secret/${String(ref.name)}`)).toBe(true);
        }
      }
      // Pod Security "restricted" (namespace.yaml): non-root, no privilege escalation, all capabilities dropped,
      // read-only root filesystem, resources set.
      expect({ workload: key(workload), runAsNonRoot: (podSpec(workload).securityContext as JsonObject).runAsNonRoot }).toEqual({ workload: key(workload), runAsNonRoot: true });
      for (const c of containersOf(podSpec(workload))) {
        const sc = c.securityContext as JsonObject;
        expect({ c: `${key(workload)} ${String(c.name)}`, ape: sc.allowPrivilegeEscalation, ro: sc.readOnlyRootFilesystem, drop: (sc.capabilities as JsonObject).drop, resources: Boolean(c.resources) }).toEqual({
          c: `${key(workload)} ${String(c.name)}`,
          ape: false,
          ro: true,
          drop: ['ALL'],
          resources: true,
        });
      }
    }
  });

  it('docker-compose.yml runs the same topology: one-off migrate first, 2+ API replicas, Redis, PostgreSQL, nginx, agent', () => {
    // Compose files use YAML merge keys (<<: *api), which js-yaml's default schema leaves out.
    const schema = yaml.CORE_SCHEMA.withTags(yaml.mergeTag);
    const compose = yaml.load(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { schema }) as { services: { [name: string]: JsonObject } };
    const services = compose.services;
    const apis = Object.keys(services).filter((name) => /^api-\d+$/.test(name));
    expect(apis.length).toBeGreaterThanOrEqual(2);
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgres', 'redis', 'migrate', 'lb', 'agent']));
    const image = services.migrate.image;
    expect(services.migrate.command).toEqual(container(find('Job', 'countersign-migrate')).command);
    expect(services.migrate.restart).toBe('no');
    for (const api of apis) {
      expect(services[api].image).toBe(image);
      expect(services[api].depends_on).toMatchObject({ migrate: { condition: 'service_completed_successfully' }, redis: { condition: 'service_healthy' } });
      expect((services[api].environment as JsonObject).REDIS_URL).toBe('redis://redis:6379');
    }
    expect(services.agent.image).toBe(image);
    expect((services.agent.command as string[]).slice(0, 2)).toEqual(container(find('Deployment', 'countersign-agent'), 'agent').command);

    // nginx balances over exactly the compose API services.
    const conf = fs.readFileSync(path.join(ROOT, 'deploy/compose/nginx.conf'), 'utf8');
    const upstream = [...conf.matchAll(/^\s*server\s+([\w-]+):8000\b/gm)].map((m) => m[1]);
    expect(upstream.sort()).toEqual(apis.sort());
    expect((services.lb.volumes as string[]).some((v) => v.startsWith('./deploy/compose/nginx.conf:'))).toBe(true);
  });

  it('builds the image on a supported Node.js LTS and ships what the manifests run', () => {
    const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const bases = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(bases.length).toBeGreaterThanOrEqual(2);
    for (const base of bases) expect(base).toMatch(/^node:(22|24)-bookworm-slim$/);
    expect(dockerfile).toMatch(/^COPY --from=build .*\/app\/dist \.\/dist$/m);
    expect(dockerfile).toMatch(/^COPY --from=build .*\/app\/scripts\/migrate\.js \.\/scripts\/migrate\.js$/m);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/src\/main\.js"\]$/m);
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
  });

  describe('nginx (deploy/compose/nginx.conf)', () => {
    const nginx = have('nginx') ? 'nginx' : undefined;
    const version = nginx ? /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(spawnSync(nginx, ['-v'], { encoding: 'utf8' }).stderr) : null;
    const atLeast = (want: [number, number, number]) => {
      const have3 = version!.slice(1, 4).map(Number);
      for (let i = 0; i < 3; i++) if (have3[i] !== want[i]) return have3[i] > want[i];
      return true;
    };
    if (!nginx) report('skipped the nginx checks: nginx is not installed (apt-get install nginx-light; .ci/run does)');

    /**
     * The shipped config for a machine outside Docker: Docker's DNS names must resolve when nginx reads the file, and
     * `server … resolve` needs nginx >= 1.27.3 (the compose image is nginx:1.28). Each change is returned to be logged.
     */
    function localConfig(dir: string, backends?: string[], listen?: number): { file: string; changes: string[] } {
      let conf = fs.readFileSync(path.join(ROOT, 'deploy/compose/nginx.conf'), 'utf8');
      const changes: string[] = [];
      let i = 0;
      conf = conf.replace(/^(\s*server\s+)([\w-]+:8000)/gm, (_, head: string, target: string) => {
        const local = backends ? backends[i++] : '127.0.0.1:8000';
        changes.push(`${target} -> ${local}`);
        return `${head}${local}`;
      });
      if (!atLeast([1, 27, 3])) {
        conf = conf.replace(/ resolve /g, ' ');
        changes.push(`"resolve" dropped (nginx ${version![0].slice(6)} < 1.27.3)`);
      }
      conf = conf.replace(/^pid .*$/m, `pid ${dir}/nginx.pid;`);
      // /dev/stdout and /dev/stderr are sockets under a test runner, which nginx cannot open (ENXIO).
      conf = conf.replace(/^(\s*)access_log .*$/m, '$1access_log off;');
      conf = conf.replace(/^(\s*)error_log \/dev\/stderr/m, `$1error_log ${dir}/error.log`);
      changes.push('logs to files', 'pid and temp paths in a temporary folder');
      const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t};`).join('\n');
      conf = conf.replace(/^http \{$/m, `http {\n${temp}`);
      if (listen) conf = conf.replace(/listen 8000;/, `listen 127.0.0.1:${listen};`);
      const file = path.join(dir, 'nginx.conf');
      fs.writeFileSync(file, conf);
      return { file, changes };
    }
    const nginxTest = (file: string, dir: string) => spawnSync(nginx!, ['-t', '-q', '-p', dir, '-e', path.join(dir, 'error.log'), '-c', file], { encoding: 'utf8', timeout: 30_000 });

    (nginx ? it : it.skip)('passes nginx -t, and a broken copy does not', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-nginx-'));
      const { file, changes } = localConfig(dir);
      const ok = nginxTest(file, dir);
      expect(ok.stderr).toBe('');
      expect(ok.status).toBe(0);
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('proxy_http_version 1.1;', 'proxy_http_version 1.1'));
      const broken = nginxTest(file, dir);
      expect(broken.status).not.toBe(0);
      expect(broken.stderr).toMatch(/\[emerg\]/);
      report(`nginx -t: ${version![0]} accepts deploy/compose/nginx.conf (changes for a machine outside Docker: ${changes.join('; ')}); a copy missing one ";" fails: ${broken.stderr.trim().split('\n')[0]}`);
    });

    (nginx ? it : it.skip)('balances round robin, retries a refused GET on the other replica, never re-sends a POST', async () => {
      // Two replicas; "b" drains after the round-robin phase (503 like a replica after SIGTERM).
      const seen: { [backend: string]: { method: string; id: string }[] } = { a: [], b: [] };
      let bDraining = false;
      const servers = ['a', 'b'].map((name) =>
        http.createServer((req, res) => {
          seen[name].push({ method: req.method!, id: String(req.headers['x-test-id']) });
          req.resume();
          req.on('end', () => {
            const refuse = name === 'b' && bDraining;
            res.writeHead(refuse ? 503 : 200, { 'content-type': 'text/plain' }).end(refuse ? 'draining' : name);
          });
        }),
      );
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
      const probe = http.createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const port = (probe.address() as AddressInfo).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));

      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-nginx-run-'));
      fs.chmodSync(dir, 0o755);
      const { file } = localConfig(dir, servers.map((s) => `127.0.0.1:${(s.address() as AddressInfo).port}`), port);
      const proc = spawn(nginx!, ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', file, '-g', 'daemon off;'], { stdio: 'ignore' });
      const send = (method: string, id: string) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = http.request({ host: '127.0.0.1', port, method, path: '/api/v1/x', headers: { 'x-test-id': id, connection: 'close' }, agent: false }, (res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString()));
            res.on('end', () => resolve({ status: res.statusCode!, body }));
          });
          req.on('error', reject);
          req.end(method === 'POST' ? '{}' : undefined);
        });
      try {
        const deadline = Date.now() + 10_000;
        for (;;) {
          const up = await send('GET', 'warmup').catch(() => undefined);
          if (up) break;
          if (Date.now() > deadline) throw new Error(`nginx did not start: ${fs.existsSync(path.join(dir, 'error.log')) ? fs.readFileSync(path.join(dir, 'error.log'), 'utf8') : ''}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        seen.a.length = 0;
        seen.b.length = 0;
        const rr = await Promise.all(Array.from({ length: 10 }, (_, i) => send('GET', `rr-${i}`)));
        expect(rr.every((r) => r.status === 200)).toBe(true);
        const split = { a: seen.a.length, b: seen.b.length };
        expect(split.a).toBeGreaterThanOrEqual(3);
        expect(split.b).toBeGreaterThanOrEqual(3);

        bDraining = true;
        seen.a.length = 0;
        seen.b.length = 0;
        // GETs until one reached the draining replica: the client still gets 200 (proxy_next_upstream http_503).
        const gets: number[] = [];
        for (let i = 0; i < 6 && !seen.b.some((r) => r.method === 'GET'); i++) gets.push((await send('GET', `get-${i}`)).status);
        expect(seen.b.filter((r) => r.method === 'GET').length).toBe(1);
        expect(gets.every((s) => s === 200)).toBe(true);
        const retried = seen.b.find((r) => r.method === 'GET')!.id;
        expect(seen.a.map((r) => r.id)).toContain(retried);
        // POSTs until one reached the draining replica: its 503 reaches the client and the other replica never sees it.
        const posts: { id: string; status: number }[] = [];
        for (let i = 0; i < 6 && !seen.b.some((r) => r.method === 'POST'); i++) posts.push({ id: `post-${i}`, status: (await send('POST', `post-${i}`)).status });
        const refusedPost = seen.b.find((r) => r.method === 'POST');
        expect(refusedPost).toBeDefined();
        expect(posts.find((p) => p.id === refusedPost!.id)!.status).toBe(503);
        expect(seen.a.map((r) => r.id)).not.toContain(refusedPost!.id);
        report(`nginx ran deploy/compose/nginx.conf over two local replicas: 10 GETs split ${split.a}/${split.b}; with one replica draining, GET ${retried} refused there was answered by the other (client saw ${gets.join(',')}); POST ${refusedPost!.id} refused there reached the client as 503 and was not re-sent`);
      } finally {
        proc.kill('SIGTERM');
        await new Promise((resolve) => (proc.exitCode !== null ? resolve(null) : proc.once('exit', resolve)));
        await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
      }
    });
  });
});
