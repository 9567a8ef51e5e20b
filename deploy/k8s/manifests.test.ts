/**
 * The Kubernetes manifests of deploy/k8s, checked offline (no cluster): the base and every overlay are
 * rendered with `kubectl kustomize` (KUBECTL overrides the binary; deploy/bootstrap.sh installs Debian's
 * kubernetes-client when kubectl is missing), then
 * - every built-in object is validated against the Kubernetes schemas of kubernetes-models (JSON schema:
 *   types, enums, required fields) and type-checked against its TypeScript types, which catches unknown
 *   (misspelt or misplaced) fields the JSON schemas let through;
 * - every Strimzi object is validated against Strimzi's own CRD schema (vendored in strimzi-crds/, see
 *   its README section in deploy/k8s/README.md), unknown fields included, as the API server prunes them;
 * - and the manifests are checked against the code: a Deployment per service of deploy/services.ts running
 *   its entry point, probes on the port the service listens on (its config, resolved from the rendered
 *   ConfigMaps), only known variables in ConfigMaps, secrets only by reference, autoscalers bounded by the
 *   partitions of the topics consumed, KafkaTopics = the topics of schemas/topics.ts with the configs the
 *   code creates them with, grace periods covering the services' graceful stop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import ajvModule from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig, type Spec } from '../../schemas/config.js';
import type { Admin } from '../../processors/runtime/kafka.js';
import { ensureCampaignsTopic } from '../../processors/campaigns/publisher.js';
import { TOPICS } from '../../schemas/topics.js';
import { projectServices, type ProjectService } from '../services.js';

// ---------------------------------------------------------------------------------------------- rendering

const HERE = fileURLToPath(new URL('.', import.meta.url));
const KUBECTL = process.env.KUBECTL ?? 'kubectl';
const RENDERS = ['base', 'overlays/local'] as const;
type RenderName = (typeof RENDERS)[number];

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [k: string]: any };

const cache = new Map<RenderName, Obj[]>();
function render(name: RenderName): Obj[] {
  const hit = cache.get(name);
  if (hit) return hit;
  let out: string;
  try {
    out = execFileSync(KUBECTL, ['kustomize', join(HERE, name)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`${KUBECTL} not found: run bash deploy/bootstrap.sh (installs Debian's kubernetes-client) or set KUBECTL=/path/to/kubectl`);
    throw new Error(`${KUBECTL} kustomize deploy/k8s/${name} failed: ${e.stderr ?? e.message}`);
  }
  const objs: Obj[] = [];
  for (const doc of parseAllDocuments(out)) {
    assert.equal(doc.errors.length, 0, `deploy/k8s/${name} renders invalid YAML: ${doc.errors.map((x) => x.message).join('; ')}`);
    const o = doc.toJS() as Obj | null;
    if (o) objs.push(o);
  }
  assert.ok(objs.length > 0, `deploy/k8s/${name} renders nothing`);
  cache.set(name, objs);
  return objs;
}

const id = (o: Obj): string => `${o.kind}/${o.metadata?.name}`;
const ofKind = (objs: Obj[], kind: string): Obj[] => objs.filter((o) => o.kind === kind);
function one(objs: Obj[], kind: string, name: string, where: string): Obj {
  const found = objs.filter((o) => o.kind === kind && o.metadata.name === name);
  assert.equal(found.length, 1, `${where}: expected one ${kind}/${name}, found ${found.length}`);
  return found[0]!;
}

// ------------------------------------------------------------------------------- Kubernetes schema checks

const STRIMZI_GROUP = 'kafka.strimzi.io';
const isStrimzi = (o: Obj): boolean => o.apiVersion.startsWith(`${STRIMZI_GROUP}/`);

/** JSON-schema validation by kubernetes-models (the Kubernetes OpenAPI of its version), one model class per kind. */
async function validateBuiltIn(o: Obj): Promise<string | null> {
  let mod: Record<string, new (data: unknown) => { validate(): void }>;
  try {
    mod = (await import(`kubernetes-models/${o.apiVersion}/${o.kind}`)) as typeof mod;
  } catch {
    return `${o.apiVersion} ${o.kind} is not a Kubernetes API kubernetes-models knows`;
  }
  const Model = mod[o.kind];
  if (!Model) return `kubernetes-models/${o.apiVersion}/${o.kind} has no class ${o.kind}`;
  // kustomize v5 folds long base64 Secret values over lines; the API server's decoder skips line breaks, the "byte" format does not.
  const data = o.kind === 'Secret' && o.data ? { ...o, data: Object.fromEntries(Object.entries(o.data as Record<string, string>).map(([k, v]) => [k, v.replace(/\s+/g, '')])) } : o;
  try {
    new Model(data).validate();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Type-checks every object literal against kubernetes-models' TypeScript interface of its kind (and Strimzi
 * objects' metadata against ObjectMeta). Object literals may only name known properties, so a misspelt or
 * misplaced field (which the open JSON schemas accept and the API server rejects or drops) is an error.
 */
function typeCheck(objs: Obj[]): string[] {
  const file = join(HERE, '__rendered_manifests__.ts');
  let text = "import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';\ntype IObjectMeta = NonNullable<IConfigMap['metadata']>;\n";
  const spans: { start: number; end: number; what: string }[] = [];
  objs.forEach((o, i) => {
    const start = text.length;
    text += isStrimzi(o)
      ? `export const m${i}: IObjectMeta = ${JSON.stringify(o.metadata)};\n`
      : `import type { I${o.kind} as T${i} } from 'kubernetes-models/${o.apiVersion}/${o.kind}';\nexport const o${i}: T${i} = ${JSON.stringify(o)};\n`;
    spans.push({ start, end: text.length, what: id(o) });
  });
  const options: ts.CompilerOptions = {
    strict: true, noEmit: true, skipLibCheck: true, types: [],
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (name === file ? ts.createSourceFile(name, text, lang) : getSourceFile(name, lang, ...rest));
  host.fileExists = (name) => name === file || fileExists(name);
  host.readFile = (name) => (name === file ? text : readFile(name));
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const what = spans.find((s) => d.file?.fileName === file && d.start !== undefined && d.start >= s.start && d.start < s.end)?.what ?? d.file?.fileName ?? 'program';
    return `${what}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}

// ---------------------------------------------------------------------------------- Strimzi schema checks

const CRD_DIR = join(HERE, 'strimzi-crds');
const CRD_FILES = ['040-Crd-kafka.yaml', '043-Crd-kafkatopic.yaml', '045-Crd-kafkanodepool.yaml'];
type Schema = Record<string, any>;
const crdSchemas = new Map<string, Schema>(); // `${group}/${version} ${kind}` -> openAPIV3Schema
for (const f of CRD_FILES) {
  const crd = parse(readFileSync(join(CRD_DIR, f), 'utf8')) as Schema;
  for (const v of crd.spec.versions as Schema[]) {
    if (v.served) crdSchemas.set(`${crd.spec.group}/${v.name} ${crd.spec.names.kind}`, v.schema.openAPIV3Schema);
  }
}
// ajv 7 (draft-07); strict off for the x-kubernetes-* keywords of CRD schemas, handled by prune() below.
const Ajv = ajvModule.default;
const ajv = new Ajv({ allErrors: true, strict: false });
const compiled = new Map<Schema, ReturnType<typeof ajv.compile>>();

/**
 * What the API server's structural-schema pruning would drop: fields a schema does not declare (outside
 * x-kubernetes-preserve-unknown-fields). Also reports CEL rules (x-kubernetes-validations) that the object
 * reaches: they cannot be evaluated offline, so a manifest using such a field must not pass unnoticed.
 */
function prune(schema: Schema | undefined, value: unknown, path: string, out: string[]): void {
  if (!schema || value === null || value === undefined) return;
  if (schema['x-kubernetes-validations']) out.push(`${path}: has CEL rules this test cannot evaluate (${JSON.stringify(schema['x-kubernetes-validations'])})`);
  if (Array.isArray(value)) {
    value.forEach((v, i) => prune(schema.items as Schema | undefined, v, `${path}[${i}]`, out));
    return;
  }
  if (typeof value !== 'object') return;
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (path === '' && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
    const p = `${path}${path ? '.' : ''}${k}`;
    if (props[k]) prune(props[k], v, p, out);
    else if (typeof schema.additionalProperties === 'object') prune(schema.additionalProperties as Schema, v, p, out);
    else if (schema['x-kubernetes-preserve-unknown-fields'] !== true && schema.additionalProperties !== true) out.push(`${p}: unknown field (pruned by the API server)`);
  }
}

function validateStrimzi(o: Obj): string[] {
  const schema = crdSchemas.get(`${o.apiVersion} ${o.kind}`);
  if (!schema) return [`${o.apiVersion} ${o.kind} is not served by the vendored Strimzi CRDs (${[...crdSchemas.keys()].join(', ')})`];
  const errors: string[] = [];
  const validate = compiled.get(schema) ?? compiled.set(schema, ajv.compile(schema)).get(schema)!;
  if (!validate(o)) errors.push(...(validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`));
  prune(schema, o, '', errors);
  return errors;
}

// ------------------------------------------------------------------------------------- the pods' config

const PROCESSOR = (svc: ProjectService): boolean => svc.httpPort !== undefined;
const deploymentOf = (objs: Obj[], svc: ProjectService, where: string): Obj => one(objs, 'Deployment', svc.name, where);
const containerOf = (d: Obj, where: string): Obj => {
  const cs = d.spec.template.spec.containers as Obj[];
  assert.equal(cs.length, 1, `${where}: ${id(d)} has one container`);
  return cs[0]!;
};
const envNames = (svc: ProjectService): Set<string> => new Set(Object.values(svc.specs as Record<string, Spec>).map((s) => s.env));
const decode = (b64: string): string => Buffer.from(b64.replace(/\s+/g, ''), 'base64').toString('utf8');

/** The environment the container gets: envFrom ConfigMaps/Secrets, then env (Secrets of the render decoded; fieldRefs as a pod would see them). */
function containerEnv(objs: Obj[], d: Obj): { env: Record<string, string>; sources: Map<string, string> } {
  const c = d.spec.template.spec.containers[0] as Obj;
  const env: Record<string, string> = {};
  const sources = new Map<string, string>(); // variable -> 'configmap:<name>' | 'secret:<name>/<key>' | 'value' | 'field'
  const data = (kind: string, name: string): Record<string, string> | undefined => {
    const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
    if (!o) return undefined;
    const raw = (o.data ?? {}) as Record<string, string>;
    return kind === 'Secret' ? Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, decode(v)])) : raw;
  };
  for (const from of (c.envFrom ?? []) as Obj[]) {
    if (from.configMapRef) {
      const cm = data('ConfigMap', from.configMapRef.name as string);
      assert.ok(cm, `${id(d)} envFrom names ConfigMap ${from.configMapRef.name}, which the render does not contain`);
      for (const [k, v] of Object.entries(cm)) {
        env[k] = v;
        sources.set(k, `configmap:${from.configMapRef.name}`);
      }
    }
    if (from.secretRef) {
      for (const [k, v] of Object.entries(data('Secret', from.secretRef.name as string) ?? {})) {
        env[k] = v;
        sources.set(k, `secret:${from.secretRef.name}/*`);
      }
    }
  }
  for (const e of (c.env ?? []) as Obj[]) {
    const name = e.name as string;
    if (e.value !== undefined) {
      env[name] = String(e.value);
      sources.set(name, 'value');
    } else if (e.valueFrom?.secretKeyRef) {
      const { name: secret, key } = e.valueFrom.secretKeyRef as { name: string; key: string };
      const v = data('Secret', secret)?.[key];
      if (v !== undefined) env[name] = v;
      sources.set(name, `secret:${secret}/${key}`);
    } else if (e.valueFrom?.configMapKeyRef) {
      const { name: cm, key } = e.valueFrom.configMapKeyRef as { name: string; key: string };
      const v = data('ConfigMap', cm)?.[key];
      assert.ok(v !== undefined, `${id(d)} ${name}: ConfigMap ${cm} has no key ${key}`);
      env[name] = v;
      sources.set(name, `configmap:${cm}`);
    } else if (e.valueFrom?.fieldRef) {
      assert.equal(e.valueFrom.fieldRef.fieldPath, 'metadata.name', `${id(d)} ${name}: only the pod name is used from the downward API`);
      env[name] = `${d.metadata.name}-5f7d8c9b6d-x2k4q`; // what a pod of this Deployment is called
      sources.set(name, 'field');
    } else {
      assert.fail(`${id(d)} ${name}: an env entry without value, secretKeyRef, configMapKeyRef or fieldRef`);
    }
  }
  return { env, sources };
}

/** The service's config as the pod would load it: its own validation (ports, patterns, bounds) runs here. */
function podConfig(objs: Obj[], svc: ProjectService, where: string): Record<string, unknown> {
  const { env } = containerEnv(objs, deploymentOf(objs, svc, where));
  try {
    return loadConfig(svc.specs, env) as Record<string, unknown>;
  } catch (err) {
    assert.fail(`${where}: ${svc.name} would refuse its configuration: ${(err as Error).message}`);
  }
}

/** The port the service listens on, from its config (deploy/services.ts: `port` names the key; processors use PROCESSOR_HTTP_PORT). */
function listenPort(svc: ProjectService, cfg: Record<string, unknown>): number {
  return Number(cfg[svc.port ?? 'httpPort']);
}

function containerPort(c: Obj, port: number | string, what: string): number {
  if (typeof port === 'number') return port;
  const p = ((c.ports ?? []) as Obj[]).find((x) => x.name === port);
  assert.ok(p, `${what}: no container port named ${port}`);
  return Number(p.containerPort);
}

// Variables holding a secret (or a URL that carries one): never in a ConfigMap or a literal, only from a Secret.
// The specs mark them `secret: true`; the names catch one a spec forgot to mark.
const SECRET_ENV = /(^|_)(SECRET|TOKEN|PASSWORD|API_KEY)$|^(POSTGRES_URL|REDIS_URL)$/;
const isSecret = (spec: Spec): boolean => (spec as { secret?: boolean }).secret === true || SECRET_ENV.test(spec.env);
/**
 * Secrets a pod must not start without, so their reference may not be optional: those the services refuse to
 * start without (ingest/tracking-secret.ts, processors/campaigns/operator-token.ts), and any whose default is
 * a development value that would apply silently (POSTGRES_URL, REDIS_URL: see `requiredSecret`).
 */
const REFUSED_WHEN_MISSING = new Set(['INGEST_TRACKING_SECRET', 'CAMPAIGNS_OPERATOR_TOKEN']);
const requiredSecret = (spec: Spec): boolean => REFUSED_WHEN_MISSING.has(spec.env) || (spec.default !== undefined && spec.default !== '');
const CREDENTIALS_IN_URL = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/i;

/** Config keys naming each processor's input topics (consumed in its consumer group, so their partitions bound its replicas). */
const INPUT_KEYS: Record<string, readonly string[]> = {
  enrich: ['input'],
  bid: ['input'],
  auction: ['input'],
  settle: ['input', 'lossInput'],
  aggregate: ['outcomes', 'tracking'],
};

/** What a graceful stop may take (ms) before SIGKILL, from each service's own bounded steps on SIGTERM. */
const LOCAL_STOP_TIMEOUT_MS = 15_000; // deploy/run-services.ts RTB_STOP_TIMEOUT_MS default: the local supervisor's grace
function stopBudgetMs(svc: ProjectService, cfg: Record<string, unknown>): number {
  const n = (k: string): number => {
    assert.equal(typeof cfg[k], 'number', `${svc.name} config has no ${k}`);
    return cfg[k] as number;
  };
  let own: number;
  if (PROCESSOR(svc)) own = n('transactionTimeoutMs') + 5000; // batch's transaction, then the runner's producer flush(5000)
  else if (svc.name === 'ingest') own = n('shutdownTimeoutMs') + n('deliveryTimeoutMs'); // drain, then the flush (records expire after the delivery timeout)
  else if (svc.name === 'campaigns') own = n('publishTimeoutMs') + 5000; // producer flush, then sql.end({ timeout: 5 })
  else if (svc.name === 'sink') own = 5000; // the batch commits, then sql.end({ timeout: 5 })
  else assert.fail(`no stop budget known for service ${svc.name}: add it here`);
  return Math.max(own, LOCAL_STOP_TIMEOUT_MS);
}

function quantity(q: unknown): number {
  const m = /^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(String(q));
  assert.ok(m, `unreadable quantity ${String(q)}`);
  const f: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
  return Number(m[1]) * (m[2] ? f[m[2]]! : 1);
}

// ------------------------------------------------------------------------------------------------- tests

test('kubectl kustomize renders the base and the local overlay', () => {
  for (const r of RENDERS) {
    const objs = render(r);
    const ids = objs.map((o) => `${o.metadata.namespace ?? ''}/${id(o)}`);
    assert.equal(new Set(ids).size, ids.length, `${r}: duplicate objects`);
  }
  assert.ok(render('overlays/local').every((o) => o.kind === 'Namespace' || o.metadata.namespace === 'rtb'), 'overlays/local puts everything in namespace rtb');
});

test('built-in objects are valid against the Kubernetes schemas (kubernetes-models) and name no unknown field', async () => {
  const all: Obj[] = [];
  for (const r of RENDERS) {
    for (const o of render(r)) {
      all.push(o);
      if (isStrimzi(o)) continue;
      const problem = await validateBuiltIn(o);
      assert.equal(problem, null, `${r}: ${id(o)} is invalid: ${problem}`);
    }
  }
  assert.deepEqual(typeCheck(all), [], 'objects that do not type-check against kubernetes-models');
});

test('Strimzi objects are valid against the vendored Strimzi CRD schemas, unknown fields included', () => {
  for (const r of RENDERS) {
    const strimzi = render(r).filter(isStrimzi);
    assert.ok(strimzi.length > 0, `${r}: no Strimzi objects`);
    for (const o of strimzi) assert.deepEqual(validateStrimzi(o), [], `${r}: ${id(o)}`);
  }
});

test('the vendored Strimzi CRDs are the generated ones (SHA256SUMS of strimzi-crds/regenerate.sh)', () => {
  const sums = readFileSync(join(CRD_DIR, 'SHA256SUMS'), 'utf8').trim().split('\n').map((l) => l.split(/\s+/) as [string, string]);
  assert.deepEqual(sums.map(([, f]) => f).sort(), [...CRD_FILES, 'VERSION'].sort(), 'SHA256SUMS lists the vendored files');
  for (const [sum, f] of sums) assert.equal(createHash('sha256').update(readFileSync(join(CRD_DIR, f))).digest('hex'), sum, `strimzi-crds/${f} was edited by hand: run deploy/k8s/strimzi-crds/regenerate.sh`);
});

test('every service of deploy/services.ts has a Deployment running its entry point from the image, and nothing else does', () => {
  for (const r of RENDERS) {
    const objs = render(r);
    assert.deepEqual(ofKind(objs, 'Deployment').map((d) => d.metadata.name).sort(), projectServices.map((s) => s.name).sort(), `${r}: Deployments`);
    for (const svc of projectServices) {
      const d = deploymentOf(objs, svc, r);
      const c = containerOf(d, r);
      assert.deepEqual(c.command, ['node', `dist/${svc.entry.replace(/\.ts$/, '.js')}`], `${r}: ${svc.name} entry point`);
      assert.match(String(c.image), /^rtb-pipeline:[\w.-]+$/, `${r}: ${svc.name} runs the Dockerfile's image, tagged`);
      const podLabels = d.spec.template.metadata.labels as Record<string, string>;
      for (const [k, v] of Object.entries(d.spec.selector.matchLabels as Record<string, string>)) assert.equal(podLabels[k], v, `${r}: ${svc.name} selector matches its pods`);
    }
  }
});

test('probes, Service and metrics annotation point at the port each service listens on', () => {
  for (const r of RENDERS) {
    const objs = render(r);
    for (const svc of projectServices) {
      const d = deploymentOf(objs, svc, r);
      const c = containerOf(d, r);
      const cfg = podConfig(objs, svc, r);
      const port = listenPort(svc, cfg);
      assert.ok(port > 0, `${r}: ${svc.name} must listen on a fixed port (0 = any free port)`);
      if (svc.httpPort !== undefined) assert.equal(port, svc.httpPort, `${r}: ${svc.name} PROCESSOR_HTTP_PORT = deploy/services.ts httpPort`);
      for (const [probe, path] of [['startupProbe', '/health'], ['livenessProbe', '/health'], ['readinessProbe', '/ready']] as const) {
        const get = c[probe]?.httpGet as Obj | undefined;
        assert.ok(get, `${r}: ${svc.name} has an HTTP ${probe}`);
        assert.equal(get.path, path, `${r}: ${svc.name} ${probe} path`);
        assert.equal(containerPort(c, get.port as number | string, `${r}: ${svc.name} ${probe}`), port, `${r}: ${svc.name} ${probe} port = the port it listens on`);
      }
      // A start-up that hangs ends in exit 1 after PROCESSOR_STARTUP_TIMEOUT_MS: the probe must not kill it first.
      const startup = c.startupProbe as Obj;
      const window = (startup.periodSeconds ?? 10) * (startup.failureThreshold ?? 3) * 1000;
      const needed = typeof cfg.startupTimeoutMs === 'number' ? cfg.startupTimeoutMs : 60_000;
      assert.ok(window > needed, `${r}: ${svc.name} startupProbe allows ${window} ms, start-up may take ${needed} ms`);
      assert.equal(d.spec.template.metadata.annotations?.['prometheus.io/port'], String(port), `${r}: ${svc.name} prometheus.io/port`);
      const service = one(objs, 'Service', svc.name, r);
      const sp = (service.spec.ports as Obj[])[0]!;
      assert.equal(sp.port, port, `${r}: Service ${svc.name} port`);
      assert.equal(containerPort(c, sp.targetPort as number | string, `${r}: Service ${svc.name}`), port, `${r}: Service ${svc.name} targetPort`);
      for (const [k, v] of Object.entries(service.spec.selector as Record<string, string>)) assert.equal(d.spec.template.metadata.labels[k], v, `${r}: Service ${svc.name} selects its pods`);
    }
  }
});

test('ConfigMaps and env set only variables the service reads, with values its config accepts', () => {
  for (const r of RENDERS) {
    const objs = render(r);
    for (const svc of projectServices) {
      const known = envNames(svc);
      const { sources } = containerEnv(objs, deploymentOf(objs, svc, r));
      for (const [name, source] of sources) assert.ok(known.has(name), `${r}: ${svc.name} gets ${name} (${source}), which its config does not read`);
      const cfg = podConfig(objs, svc, r);
      assert.notEqual(cfg.devMode, true, `${r}: ${svc.name} runs with RTB_DEV_MODE`);
    }
    const used = new Set(ofKind(objs, 'Deployment').flatMap((d) => ((d.spec.template.spec.containers[0].envFrom ?? []) as Obj[]).map((f) => f.configMapRef?.name as string)));
    for (const cm of ofKind(objs, 'ConfigMap')) assert.ok(used.has(cm.metadata.name), `${r}: ConfigMap ${cm.metadata.name} is used by no Deployment`);
  }
});

test('secrets: only Secret references in the base, every secret variable from a Secret, overlay Secrets complete', () => {
  const base = render('base');
  assert.deepEqual(ofKind(base, 'Secret').map(id), [], 'the base defines no Secret');
  const secretNames = new Set(projectServices.flatMap((svc) => Object.values(svc.specs as Record<string, Spec>).filter(isSecret).map((spec) => spec.env)));
  for (const r of RENDERS) {
    const objs = render(r);
    for (const cm of ofKind(objs, 'ConfigMap')) {
      for (const [k, v] of Object.entries((cm.data ?? {}) as Record<string, string>)) {
        assert.ok(!SECRET_ENV.test(k) && !secretNames.has(k), `${r}: ConfigMap ${cm.metadata.name} holds ${k}, a secret: use a Secret`);
        assert.ok(!CREDENTIALS_IN_URL.test(v), `${r}: ConfigMap ${cm.metadata.name} ${k} carries credentials`);
      }
    }
    for (const svc of projectServices) {
      const d = deploymentOf(objs, svc, r);
      const c = containerOf(d, r);
      for (const e of (c.env ?? []) as Obj[]) {
        if (e.value !== undefined) assert.ok(!secretNames.has(e.name) && !SECRET_ENV.test(e.name) && !CREDENTIALS_IN_URL.test(String(e.value)), `${r}: ${svc.name} sets ${e.name} as a literal`);
      }
      for (const spec of Object.values(svc.specs as Record<string, Spec>).filter(isSecret)) {
        const ref = ((c.env ?? []) as Obj[]).find((e) => e.name === spec.env)?.valueFrom?.secretKeyRef as Obj | undefined;
        assert.ok(ref, `${r}: ${svc.name} reads ${spec.env}, a secret: set it from a Secret (env valueFrom.secretKeyRef, optional: true if the service runs without it)`);
        if (requiredSecret(spec)) assert.notEqual(ref.optional, true, `${r}: ${svc.name} ${spec.env} may not be optional: the service refuses to start without it, or falls back to a development default`);
      }
    }
  }
  // The local overlay: every non-optional reference is satisfied by a generated Secret, or by one the docs tell to create.
  const local = render('overlays/local');
  const docs = readFileSync(join(HERE, 'overlays/local/kustomization.yaml'), 'utf8') + readFileSync(join(HERE, 'README.md'), 'utf8');
  for (const d of ofKind(local, 'Deployment')) {
    for (const e of (d.spec.template.spec.containers[0].env ?? []) as Obj[]) {
      const ref = e.valueFrom?.secretKeyRef as Obj | undefined;
      if (!ref || ref.optional === true) continue;
      const secret = local.find((o) => o.kind === 'Secret' && o.metadata.name === ref.name);
      if (secret) {
        assert.ok(ref.key in (secret.data ?? {}), `overlays/local: Secret ${ref.name} has no key ${ref.key} (${d.metadata.name} ${e.name})`);
      } else {
        assert.match(docs, new RegExp(`create secret generic ${ref.name}\\b[^\\n]*(\\\\\\n[^\\n]*)*--from-literal=${ref.key}=`), `overlays/local: ${d.metadata.name} needs Secret ${ref.name} (key ${ref.key}), which is neither generated nor documented (kubectl create secret generic ${ref.name} --from-literal=${ref.key}=...)`);
      }
    }
  }
});

test('the hosts the services reach exist in the render: Kafka bootstrap, registry, Postgres, Redis', () => {
  for (const r of RENDERS) {
    const objs = render(r);
    const kafka = ofKind(objs, 'Kafka');
    assert.equal(kafka.length, 1, `${r}: one Kafka`);
    const plain = ((kafka[0]!.spec.kafka.listeners ?? []) as Obj[]).filter((l) => l.tls === false).map((l) => Number(l.port));
    const services = new Map(ofKind(objs, 'Service').map((s) => [s.metadata.name, ((s.spec.ports ?? []) as Obj[]).map((p) => Number(p.port))]));
    for (const svc of projectServices) {
      const { env } = containerEnv(objs, deploymentOf(objs, svc, r));
      const cfg = podConfig(objs, svc, r);
      for (const broker of String(cfg.kafkaBrokers).split(',')) {
        const [host, port] = broker.trim().split(':');
        assert.equal(host, `${kafka[0]!.metadata.name}-kafka-bootstrap`, `${r}: ${svc.name} KAFKA_BROKERS names Strimzi's bootstrap Service of Kafka ${kafka[0]!.metadata.name}`);
        assert.ok(plain.includes(Number(port)), `${r}: ${svc.name} KAFKA_BROKERS port ${port} is a plain listener (${plain.join(', ')})`);
      }
      const urls: [string, string | undefined][] = [['SCHEMA_REGISTRY_URL', String(cfg.schemaRegistryUrl)], ['POSTGRES_URL', env.POSTGRES_URL], ['REDIS_URL', env.REDIS_URL]];
      for (const [name, url] of urls) {
        if (url === undefined) continue; // a Secret this render does not contain (the base)
        const u = new URL(url);
        assert.ok(services.has(u.hostname), `${r}: ${svc.name} ${name} host ${u.hostname} is no Service of the render`);
        assert.ok(services.get(u.hostname)!.includes(Number(u.port)), `${r}: ${svc.name} ${name} port ${u.port} is not a port of Service ${u.hostname}`);
      }
    }
  }
  for (const s of ofKind(render('overlays/local'), 'Service').filter((x) => x.spec.type === 'ExternalName')) {
    assert.ok(!String(s.spec.externalName).endsWith('.invalid'), `overlays/local leaves Service ${s.metadata.name} at the base's placeholder ${s.spec.externalName}`);
  }
});

test('autoscalers: processors and the edge; maxReplicas <= partitions of every input topic', () => {
  for (const r of RENDERS) {
    const objs = render(r);
    const partitions = new Map(ofKind(objs, 'KafkaTopic').map((t) => [String(t.spec.topicName ?? t.metadata.name), Number(t.spec.partitions)]));
    const hpas = ofKind(objs, 'HorizontalPodAutoscaler');
    for (const h of hpas) assert.ok(objs.some((o) => o.kind === h.spec.scaleTargetRef.kind && o.metadata.name === h.spec.scaleTargetRef.name), `${r}: HPA ${h.metadata.name} scales ${h.spec.scaleTargetRef.kind}/${h.spec.scaleTargetRef.name}, which is not in the render`);
    for (const svc of projectServices) {
      const d = deploymentOf(objs, svc, r);
      const hpa = hpas.find((h) => h.spec.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === svc.name);
      if (!PROCESSOR(svc) && svc.name !== 'ingest') {
        assert.equal(hpa, undefined, `${r}: ${svc.name} is not autoscaled`);
        assert.ok(Number(d.spec.replicas) >= 1, `${r}: ${svc.name} sets its replicas`);
        continue;
      }
      assert.ok(hpa, `${r}: ${svc.name} has a HorizontalPodAutoscaler`);
      assert.equal(hpa.spec.scaleTargetRef.apiVersion, 'apps/v1', `${r}: ${svc.name} HPA target API`);
      assert.equal(d.spec.replicas, undefined, `${r}: ${svc.name} leaves replicas to its autoscaler (a set count fights it on every apply)`);
      assert.ok(hpa.spec.minReplicas >= 1 && hpa.spec.minReplicas <= hpa.spec.maxReplicas, `${r}: ${svc.name} 1 <= minReplicas <= maxReplicas`);
      if (!PROCESSOR(svc)) continue;
      const keys = INPUT_KEYS[svc.name];
      assert.ok(keys, `no input topics known for processor ${svc.name}: add its config keys to INPUT_KEYS`);
      const cfg = podConfig(objs, svc, r);
      for (const key of keys) {
        const topic = String(cfg[key]);
        const n = partitions.get(topic);
        assert.ok(n, `${r}: ${svc.name} consumes ${topic} (${key}), which has no KafkaTopic`);
        assert.ok(hpa.spec.maxReplicas <= n, `${r}: ${svc.name} maxReplicas ${hpa.spec.maxReplicas} > ${n} partitions of its input ${topic}`);
      }
    }
  }
});

test('every Deployment has a PodDisruptionBudget that selects its pods and lets a node drain', () => {
  for (const r of RENDERS) {
    const objs = render(r);
    const hpas = ofKind(objs, 'HorizontalPodAutoscaler');
    const covered = new Set<string>();
    for (const d of ofKind(objs, 'Deployment')) {
      const labels = d.spec.template.metadata.labels as Record<string, string>;
      const pdbs = ofKind(objs, 'PodDisruptionBudget').filter((p) => Object.entries(p.spec.selector.matchLabels as Record<string, string>).every(([k, v]) => labels[k] === v));
      assert.equal(pdbs.length, 1, `${r}: ${d.metadata.name} is covered by one PodDisruptionBudget`);
      covered.add(pdbs[0]!.metadata.name);
      const pdb = pdbs[0]!;
      const least = Number(hpas.find((h) => h.spec.scaleTargetRef.name === d.metadata.name)?.spec.minReplicas ?? d.spec.replicas ?? 1);
      if (pdb.spec.maxUnavailable !== undefined) assert.ok(Number(pdb.spec.maxUnavailable) >= 1, `${r}: ${d.metadata.name} PDB allows an eviction`);
      else assert.ok(Number(pdb.spec.minAvailable) < least, `${r}: ${d.metadata.name} PDB minAvailable ${pdb.spec.minAvailable} blocks every eviction at ${least} replica(s)`);
    }
    for (const p of ofKind(objs, 'PodDisruptionBudget')) assert.ok(covered.has(p.metadata.name), `${r}: PodDisruptionBudget ${p.metadata.name} selects no Deployment's pods`);
  }
});

test('pods: non-root, read-only root, no privilege escalation, resources, grace period covering the graceful stop', () => {
  for (const r of RENDERS) {
    const objs = render(r);
    for (const svc of projectServices) {
      const d = deploymentOf(objs, svc, r);
      const pod = d.spec.template.spec as Obj;
      const c = containerOf(d, r);
      const what = `${r}: ${svc.name}`;
      assert.equal(pod.automountServiceAccountToken, false, `${what} mounts no service account token`);
      assert.equal(pod.securityContext?.runAsNonRoot, true, `${what} runAsNonRoot`);
      assert.ok(Number(pod.securityContext?.runAsUser) > 0, `${what} runAsUser is numeric and not root (the image's USER is a name)`);
      assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${what} seccomp`);
      assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${what} allowPrivilegeEscalation`);
      assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${what} read-only root filesystem`);
      assert.ok(((c.securityContext?.capabilities?.drop ?? []) as string[]).includes('ALL'), `${what} drops all capabilities`);
      for (const res of ['cpu', 'memory']) {
        const req = c.resources?.requests?.[res];
        const lim = c.resources?.limits?.[res];
        assert.ok(req !== undefined && lim !== undefined, `${what} requests and limits ${res}`);
        assert.ok(quantity(req) <= quantity(lim), `${what} ${res} request ${req} > limit ${lim}`);
      }
      const cfg = podConfig(objs, svc, r);
      const preStop = c.lifecycle?.preStop?.exec?.command as string[] | undefined;
      const preStopS = preStop && preStop[0] === 'sleep' ? Number(preStop[1]) : 0;
      const needS = preStopS + Math.ceil(stopBudgetMs(svc, cfg) / 1000);
      assert.ok(Number(pod.terminationGracePeriodSeconds) >= needS, `${what} terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} < ${needS} s (preStop ${preStopS} s + graceful stop)`);
    }
  }
});

test('KafkaTopics are the topics of schemas/topics.ts, with the partitions and configs the code creates them with', async () => {
  // What the code asks for when it creates the compacted campaigns topic (a fake admin records the request).
  let created: { topic: string; configEntries?: { name: string; value: string }[] }[] = [];
  const admin = {
    listTopics: async () => [],
    createTopics: async (req: { topics: typeof created }) => ((created = req.topics), true),
    // ensureTopics then waits for leaders: every created partition has one at once here.
    fetchTopicMetadata: async () => created.map((t) => ({ name: t.topic, partitions: [{ partitionId: 0, leader: 1 }] })),
  } as unknown as Admin;
  await ensureCampaignsTopic(admin, { numPartitions: 12, replicationFactor: 1 });
  const campaignsConfig = Object.fromEntries((created.find((t) => t.topic === TOPICS.campaigns)?.configEntries ?? []).map((e) => [e.name, e.value]));
  assert.equal(campaignsConfig['cleanup.policy'], 'compact', 'the code compacts the campaigns topic');

  for (const r of RENDERS) {
    const objs = render(r);
    const kafka = one(objs, 'Kafka', 'rtb', r);
    const topics = ofKind(objs, 'KafkaTopic');
    const name = (t: Obj): string => String(t.spec.topicName ?? t.metadata.name);
    assert.deepEqual(topics.map(name).sort(), Object.values(TOPICS).sort(), `${r}: a KafkaTopic for every topic of schemas/topics.ts and no other`);
    const common = podConfig(objs, projectServices[0]!, r);
    const pools = ofKind(objs, 'KafkaNodePool').filter((p) => p.metadata.labels?.['strimzi.io/cluster'] === kafka.metadata.name);
    assert.ok(pools.some((p) => (p.spec.roles as string[]).includes('controller')), `${r}: KRaft: a node pool with the controller role`);
    const brokers = pools.filter((p) => (p.spec.roles as string[]).includes('broker')).reduce((n, p) => n + Number(p.spec.replicas), 0);
    const brokerConfig = (kafka.spec.kafka.config ?? {}) as Record<string, unknown>;
    const rf = Number(brokerConfig['default.replication.factor'] ?? 1);
    assert.ok(brokers >= rf, `${r}: default.replication.factor ${rf} > ${brokers} broker(s)`);
    for (const k of ['offsets.topic.replication.factor', 'transaction.state.log.replication.factor']) assert.ok(Number(brokerConfig[k] ?? 3) <= brokers, `${r}: ${k} > ${brokers} broker(s)`);
    assert.ok(Number(brokerConfig['min.insync.replicas'] ?? 1) <= rf, `${r}: min.insync.replicas > default.replication.factor: acks=all producers would fail`);
    assert.ok(Number(common.topicReplication) <= brokers, `${r}: TOPIC_REPLICATION ${String(common.topicReplication)} > ${brokers} broker(s)`);
    for (const t of topics) {
      const what = `${r}: KafkaTopic ${name(t)}`;
      assert.equal(t.metadata.labels?.['strimzi.io/cluster'], kafka.metadata.name, `${what} belongs to Kafka ${kafka.metadata.name}`);
      assert.equal(t.spec.partitions, common.topicPartitions, `${what} partitions = TOPIC_PARTITIONS (the count the services create topics with)`);
      if (t.spec.replicas !== undefined) assert.ok(t.spec.replicas <= brokers, `${what} replicas > ${brokers} broker(s)`);
      const config = (t.spec.config ?? {}) as Record<string, unknown>;
      if (name(t) === TOPICS.campaigns) {
        for (const [k, v] of Object.entries(campaignsConfig)) assert.equal(String(config[k]), v, `${what} ${k} as the code creates it`);
      } else {
        assert.ok(config['cleanup.policy'] === undefined || config['cleanup.policy'] === 'delete', `${what} is not compacted: the code creates it without configs`);
      }
    }
  }
});
