import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { parse, parseAllDocuments } from 'yaml';
import { parseSweep } from '../../coordinator/config/load-sweep.js';
import { RUNS_STREAM, TRAINERS_CONSUMER } from '../../core/nats/topology.js';
import {
  checkNoSecretValues,
  checkProbes,
  checkResources,
  checkSchemas,
  checkSecurity,
  checkSelectors,
  checkTrainerGpus,
  ofKind,
  podsWithComponent,
  secretsReadBy,
  selects,
  type K8sObject,
  type Pod,
} from './chart-checks.js';
import { runHelm } from './helm-binary.js';

/**
 * The Helm chart (helm/cellsweep): `helm lint --strict` and `helm template` for
 * the default values and each file in helm/cellsweep/ci/, every rendered object
 * validated against the Kubernetes schemas, and assertions on what matters
 * (GPUs, probes, non-root read-only containers, no secret values, selectors),
 * and that the Dockerfiles agree with the chart (user, entrypoint, copied paths).
 * The checks are pure functions (chart-checks.ts); the last group breaks a
 * rendered chart on purpose and asserts each check reports it.
 *
 * The official NATS chart is a declared dependency, and helm refuses a chart
 * whose dependency is missing from charts/. CI has no internet and third-party
 * chart code is not committed, so the test renders a temporary copy of the
 * chart with a stand-in `nats` chart in charts/: a test double that renders
 * only the two Services the real chart names (client and headless), with its
 * naming rule and pod selector labels (nats.fullname and nats.selectorLabels in
 * the official chart's _helpers.tpl, version in Chart.yaml). That lets the test
 * check that cellsweep's NATS URL, KEDA endpoint and NetworkPolicy point at what
 * the real chart creates; the real chart's own manifests are not under test.
 * Re-check those two helpers when the dependency's version changes. Where the
 * internet is reachable, `helm dependency update helm/cellsweep` fetches the
 * real chart (helm/cellsweep/README.md).
 */

const CHART = fileURLToPath(new URL('../../helm/cellsweep', import.meta.url));
const PERMISSIONS_CONF = fileURLToPath(new URL('../../deploy/nats/permissions.conf', import.meta.url));
const RELEASE = 'sweeps';
const NAMESPACE = 'research';
const FULLNAME = `${RELEASE}-cellsweep`;

const VALUES_FILES = ['ci/gpu-batch-values.yaml', 'ci/external-nats-values.yaml', 'ci/keda-values.yaml', 'ci/tls-values.yaml'] as const;

let work: string;
let chart: string;

function natsDependencyVersion(): string {
  const meta = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as { dependencies?: Array<{ name: string; version: string; condition?: string; repository: string }> };
  const nats = meta.dependencies?.find((d) => d.name === 'nats');
  assert.ok(nats, 'Chart.yaml declares the nats dependency');
  return nats.version;
}

function writeNatsStandIn(dir: string): void {
  mkdirSync(join(dir, 'templates'), { recursive: true });
  writeFileSync(
    join(dir, 'Chart.yaml'),
    `apiVersion: v2\nname: nats\nversion: ${natsDependencyVersion()}\ndescription: Test double for the official NATS chart (tests/deploy/helm.test.ts); never deployed.\n`,
  );
  writeFileSync(
    join(dir, 'templates', 'services.yaml'),
    `{{- $name := default .Chart.Name .Values.nameOverride }}
{{- $full := "" }}
{{- if .Values.fullnameOverride }}{{ $full = .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains $name .Release.Name }}{{ $full = .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}{{ $full = printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}{{ end }}
{{- range $service := list (dict "name" $full "headless" false) (dict "name" (printf "%s-headless" $full) "headless" true) }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $service.name }}
  labels:
    app.kubernetes.io/name: {{ $name }}
    app.kubernetes.io/instance: {{ $.Release.Name }}
    app.kubernetes.io/component: nats
spec:
  {{- if $service.headless }}
  clusterIP: None
  {{- end }}
  selector:
    app.kubernetes.io/name: {{ $name }}
    app.kubernetes.io/instance: {{ $.Release.Name }}
    app.kubernetes.io/component: nats
  ports:
    - name: nats
      port: 4222
    {{- if $service.headless }}
    - name: monitor
      port: 8222
    {{- end }}
{{- end }}
`,
  );
}

interface Render {
  objects: K8sObject[];
  text: string;
  values: Values;
}

type Values = Record<string, unknown>;

function valuesOf(file: string | undefined): Values {
  const defaults = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Values;
  if (file === undefined) return defaults;
  return merge(defaults, parse(readFileSync(join(CHART, file), 'utf8')) as Values);
}

function merge(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isMap(b) && isMap(v) ? merge(b, v) : v;
  }
  return out;
}
const isMap = (v: unknown): v is Values => typeof v === 'object' && v !== null && !Array.isArray(v);

async function helm(args: string[]): Promise<string> {
  const result = await runHelm(join(work, 'helm-home'), args);
  assert.equal(result.code, 0, `helm ${args.join(' ')} failed:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

async function render(file?: string): Promise<Render> {
  const args = ['template', RELEASE, chart, '--namespace', NAMESPACE, ...(file === undefined ? [] : ['--values', join(chart, file)])];
  const text = await helm(args);
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    assert.deepEqual(doc.errors, [], `helm template ${file ?? ''} rendered invalid YAML`);
    const object = doc.toJS() as K8sObject | null;
    if (object !== null) objects.push(object);
  }
  return { objects, text, values: valuesOf(file) };
}

const renders = new Map<string, Promise<Render>>();
function rendered(file?: string): Promise<Render> {
  const key = file ?? 'values.yaml';
  let r = renders.get(key);
  if (r === undefined) renders.set(key, (r = render(file)));
  return r;
}

function named<T>(objects: K8sObject[], kind: string, name: string): T & K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `${kind}/${name} is rendered (have: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')})`);
  return found as T & K8sObject;
}

function only<T>(list: T[], what: string): T {
  assert.equal(list.length, 1, `exactly one ${what}`);
  return list[0]!;
}

const container = (pod: Pod, name: string): IContainer => {
  const found = (pod.template.spec?.containers ?? []).find((c) => c.name === name);
  assert.ok(found, `${pod.owner} has a container ${name}`);
  return found;
};
const envOf = (c: IContainer, name: string): string | undefined => (c.env ?? []).find((e) => e.name === name)?.value;
const argAfter = (c: IContainer, flag: string): string | undefined => {
  const args = c.args ?? [];
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
};

/** The Secret (and key) a file path of a container comes from, through its volume mounts. */
function secretBehind(pod: Pod, c: IContainer, path: string): { secret: string; key: string } | undefined {
  for (const mount of c.volumeMounts ?? []) {
    if (!path.startsWith(mount.mountPath + '/')) continue;
    const volume = (pod.template.spec?.volumes ?? []).find((v) => v.name === mount.name);
    const file = path.slice(mount.mountPath.length + 1);
    const item = volume?.secret?.items?.find((i) => i.path === file);
    if (volume?.secret?.secretName !== undefined) return { secret: volume.secret.secretName, key: item?.key ?? file };
  }
  return undefined;
}

/** Every check that holds for any values file. */
function commonProblems(r: Render, allowedSecrets: string[]): string[] {
  return [
    ...checkSchemas(r.objects),
    ...checkProbes(r.objects),
    ...checkSecurity(r.objects),
    ...checkResources(r.objects),
    ...checkNoSecretValues(r.objects, allowedSecrets),
    ...checkSelectors(r.objects, NAMESPACE),
  ];
}

const generatedToken = `${FULLNAME}-token`;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'cellsweep-helm-'));
  chart = join(work, 'cellsweep');
  // A charts/ left by `helm dependency update` is not copied: the render must use the stand-in.
  const downloaded = join(CHART, 'charts');
  // dereference: files/prometheus-rules.yml links to deploy/prometheus/rules.yml, which the copy must carry.
  cpSync(CHART, chart, { recursive: true, dereference: true, filter: (src) => src !== downloaded && !src.startsWith(downloaded + sep) });
  writeNatsStandIn(join(chart, 'charts', 'nats'));
});

after(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('helm lint --strict', () => {
  for (const file of [undefined, ...VALUES_FILES]) {
    test(`passes with ${file ?? 'the default values'}`, async () => {
      const out = await helm(['lint', chart, '--strict', ...(file === undefined ? [] : ['--values', join(chart, file)])]);
      assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    });
  }
});

describe('default values: service coordinator, 2 GPU trainers, in-cluster NATS with JetStream', () => {
  test('every object validates and every common check passes', async () => {
    const r = await rendered();
    assert.deepEqual(commonProblems(r, [generatedToken]), []);
    assert.deepEqual(
      r.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(),
      [
        `Deployment/${FULLNAME}-coordinator`,
        `Deployment/${FULLNAME}-trainer`,
        `NetworkPolicy/${FULLNAME}-coordinator`,
        `NetworkPolicy/${FULLNAME}-trainer`,
        `Secret/${generatedToken}`,
        `Service/${FULLNAME}-coordinator`,
        `Service/${FULLNAME}-trainer-metrics`,
        `Service/${RELEASE}-nats`,
        `Service/${RELEASE}-nats-headless`,
        `ServiceAccount/${FULLNAME}`,
      ].sort(),
    );
  });

  test('trainers ask for one GPU each and are two; the coordinator is one, replaced not rolled', async () => {
    const { objects } = await rendered();
    assert.deepEqual(checkTrainerGpus(objects, 1), []);
    assert.equal(named<IDeployment>(objects, 'Deployment', `${FULLNAME}-trainer`).spec?.replicas, 2);
    const coordinator = named<IDeployment>(objects, 'Deployment', `${FULLNAME}-coordinator`);
    assert.equal(coordinator.spec?.replicas, 1);
    assert.equal(coordinator.spec?.strategy?.type, 'Recreate');
  });

  test('the commands are the interface: coordinator and trainer flags, one NATS URL that names the NATS Service', async () => {
    const { objects } = await rendered();
    const coordinator = container(only(podsWithComponent(objects, 'coordinator'), 'coordinator pod'), 'coordinator');
    const trainer = container(only(podsWithComponent(objects, 'trainer'), 'trainer pod'), 'trainer');
    assert.equal(coordinator.args?.[0], 'coordinator');
    assert.equal(argAfter(coordinator, '--listen'), '0.0.0.0:50051');
    assert.equal(argAfter(coordinator, '--metrics-listen'), '0.0.0.0:9464');
    assert.equal(argAfter(coordinator, '--data-root'), '/data');
    assert.equal(argAfter(coordinator, '--token-file'), '/var/run/secrets/cellsweep/token/token');
    assert.deepEqual([trainer.args?.[0], argAfter(trainer, '--id'), argAfter(trainer, '--backend'), argAfter(trainer, '--metrics-listen')], ['trainer', '$(POD_NAME)', 'tensorflow', '0.0.0.0:9464']);

    const url = argAfter(coordinator, '--nats');
    assert.equal(url, `nats://${RELEASE}-nats.${NAMESPACE}.svc:4222`);
    for (const c of [coordinator, trainer]) {
      assert.equal(argAfter(c, '--nats'), url);
      assert.equal(envOf(c, 'NATS_URL'), url);
    }
    const natsService = named<IService>(objects, 'Service', `${RELEASE}-nats`);
    assert.ok(natsService.spec?.ports?.some((p) => p.port === 4222), 'the NATS Service serves 4222');
    for (const component of ['coordinator', 'trainer']) {
      const policy = named<INetworkPolicy>(objects, 'NetworkPolicy', `${FULLNAME}-${component}`);
      const natsRule = policy.spec?.egress?.find((rule) => rule.ports?.some((p) => p.port === 4222));
      assert.ok(natsRule?.to?.[0]?.podSelector, `${component} may reach NATS on 4222`);
      assert.deepEqual(natsRule.to[0].podSelector.matchLabels, natsService.spec?.selector, `${component}'s NATS egress selects the pods behind the NATS Service`);
    }
  });

  test('the dataset claim is mounted read-only at /data on coordinator and trainers', async () => {
    const { objects } = await rendered();
    for (const component of ['coordinator', 'trainer']) {
      const pod = only(podsWithComponent(objects, component), `${component} pod`);
      const volume = pod.template.spec?.volumes?.find((v) => v.name === 'data');
      assert.equal(volume?.persistentVolumeClaim?.claimName, 'cellsweep-datasets');
      assert.equal(volume?.persistentVolumeClaim?.readOnly, true);
      const mount = container(pod, component).volumeMounts?.find((m) => m.name === 'data');
      assert.deepEqual([mount?.mountPath, mount?.readOnly], ['/data', true]);
    }
  });

  test('each side reads only its own NATS credential; only the coordinator reads the token', async () => {
    const { objects, values } = await rendered();
    const natsAuth = values.natsAuth as { coordinator: { user: string; existingSecret: string }; trainer: { user: string; existingSecret: string } };
    assert.notEqual(natsAuth.coordinator.existingSecret, natsAuth.trainer.existingSecret);
    const coordinatorPod = only(podsWithComponent(objects, 'coordinator'), 'coordinator pod');
    const trainerPod = only(podsWithComponent(objects, 'trainer'), 'trainer pod');
    assert.deepEqual(secretsReadBy(coordinatorPod), [natsAuth.coordinator.existingSecret, generatedToken].sort());
    assert.deepEqual(secretsReadBy(trainerPod), [natsAuth.trainer.existingSecret]);
    assert.equal(envOf(container(coordinatorPod, 'coordinator'), 'NATS_USER'), natsAuth.coordinator.user);
    assert.equal(envOf(container(trainerPod, 'trainer'), 'NATS_USER'), natsAuth.trainer.user);
  });

  test('the generated token is random, long enough, mounted where --token-file reads, and nowhere else', async () => {
    const first = await rendered();
    const second = await render();
    const tokenOf = (r: Render): string => Buffer.from(named<ISecret>(r.objects, 'Secret', generatedToken).data?.token ?? '', 'base64').toString('utf8');
    const token = tokenOf(first);
    assert.ok(token.length >= 16, 'the coordinator refuses tokens under 16 characters');
    assert.notEqual(token, tokenOf(second), 'each render without a cluster draws a new token');
    assert.ok(!readFileSync(join(CHART, 'values.yaml'), 'utf8').includes(token));
    const count = (text: string, part: string): number => text.split(part).length - 1;
    assert.equal(count(first.text, token), 0, 'the token is nowhere in plain text');
    assert.equal(count(first.text, Buffer.from(token).toString('base64')), 1, 'the token is in its Secret only');
    const pod = only(podsWithComponent(first.objects, 'coordinator'), 'coordinator pod');
    const path = argAfter(container(pod, 'coordinator'), '--token-file');
    assert.deepEqual(secretBehind(pod, container(pod, 'coordinator'), path ?? ''), { secret: generatedToken, key: 'token' });
    const secret = named<ISecret>(first.objects, 'Secret', generatedToken);
    assert.equal(secret.metadata?.annotations?.['helm.sh/resource-policy'], 'keep', 'the token survives uninstall, so clients keep it');
  });

  test('the NATS dependency is the official chart, pinned, and only with nats.enabled', () => {
    const meta = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as { dependencies: Array<Record<string, string>> };
    const nats = only(meta.dependencies.filter((d) => d.name === 'nats'), 'nats dependency');
    assert.equal(nats.repository, 'https://nats-io.github.io/k8s/helm/charts/');
    assert.equal(nats.condition, 'nats.enabled');
    assert.match(nats.version ?? '', /^\d+\.\d+\.\d+$/, 'an exact version');
  });

  test("the NATS chart's values: JetStream on a PVC, the users of deploy/nats/permissions.conf, passwords from the cellsweep Secrets", async () => {
    const { values } = await rendered();
    const nats = values.nats as {
      enabled: boolean;
      config: { jetstream: { enabled: boolean; fileStore: { pvc: { size: string } } }; merge: { authorization: { users: NatsUser[] } } };
      container: { env: Record<string, { valueFrom: { secretKeyRef: { name: string; key: string } } }> };
    };
    assert.equal(nats.enabled, true);
    assert.equal(nats.config.jetstream.enabled, true);
    assert.match(nats.config.jetstream.fileStore.pvc.size, /^\d+[GT]i$/);

    const conf = readFileSync(PERMISSIONS_CONF, 'utf8');
    const natsAuth = values.natsAuth as Record<'coordinator' | 'trainer', { user: string; existingSecret: string }> & { passwordKey: string };
    const users = nats.config.merge.authorization.users;
    for (const [side, block] of [['coordinator', 'COORDINATOR_PERMISSIONS'], ['trainer', 'TRAINER_PERMISSIONS']] as const) {
      const fromConf = confUser(conf, natsAuth[side].user);
      assert.equal(fromConf.permissions, block);
      const user = users.find((u) => u.user === natsAuth[side].user);
      assert.ok(user, `the NATS chart's values define the user ${natsAuth[side].user}`);
      const expected = confPermissions(conf, block);
      // Compare the lists themselves, so a mismatch prints the subjects that differ.
      assert.deepEqual(user.permissions.publish.allow, expected.publish.allow, `${side} publish permissions agree with permissions.conf`);
      assert.deepEqual(user.permissions.subscribe.allow, expected.subscribe.allow, `${side} subscribe permissions agree with permissions.conf`);
      const variable = /^<< \$(\w+) >>$/.exec(user.password)?.[1];
      assert.equal(variable, fromConf.passwordVariable, `${side}'s password is the same variable as in permissions.conf`);
      assert.deepEqual(nats.container.env[variable]?.valueFrom.secretKeyRef, { name: natsAuth[side].existingSecret, key: natsAuth.passwordKey }, `the NATS server reads ${side}'s password from the Secret the ${side} uses`);
    }
  });
});

/**
 * Leaves of a values tree whose key names a secret and whose value is a literal
 * (not empty, not a `<< $VAR >>` reference to the NATS container's environment).
 */
function secretLiterals(values: unknown, file: string): string[] {
  const walk = (node: unknown, path: string, key: string): string[] => {
    if (Array.isArray(node)) return node.flatMap((v, i) => walk(v, `${path}[${i}]`, key));
    if (isMap(node)) return Object.entries(node).flatMap(([k, v]) => walk(v, path === '' ? k : `${path}.${k}`, k));
    const literal = typeof node === 'string' && node !== '' && !/^<< \$\w+ >>$/.test(node);
    return literal && /^(password|passwd|token|secret|nkey|seed|creds|privateKey)$/i.test(key) ? [`${file}: ${path}`] : [];
  };
  return walk(values, '', '');
}

interface NatsUser {
  user: string;
  password: string;
  permissions: { publish: { allow: string[] }; subscribe: { allow: string[] } };
}

/** A user line of permissions.conf: `{ user: NAME, password: $VAR, permissions: $BLOCK }`. */
function confUser(conf: string, user: string): { passwordVariable: string; permissions: string } {
  const m = new RegExp(`\\{\\s*user:\\s*${user}\\s*,\\s*password:\\s*\\$(\\w+)\\s*,\\s*permissions:\\s*\\$(\\w+)\\s*\\}`).exec(conf);
  assert.ok(m, `permissions.conf defines the user ${user}`);
  return { passwordVariable: m[1]!, permissions: m[2]! };
}

/** A permissions block of permissions.conf (`NAME = { publish: { allow: [...] } subscribe: { allow: [...] } }`). */
function confPermissions(conf: string, block: string): NatsUser['permissions'] {
  const start = conf.indexOf(`${block} = {`);
  assert.ok(start >= 0, `permissions.conf has ${block}`);
  let depth = 0;
  let end = start;
  for (let i = conf.indexOf('{', start); i < conf.length; i++) {
    if (conf[i] === '{') depth++;
    if (conf[i] === '}' && --depth === 0) {
      end = i;
      break;
    }
  }
  const body = conf.slice(start, end);
  const allow = (direction: string): string[] => {
    const list = new RegExp(`${direction}:\\s*\\{\\s*allow:\\s*\\[([^\\]]*)\\]`).exec(body);
    assert.ok(list, `${block} has ${direction}.allow`);
    return [...list[1]!.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
  };
  return { publish: { allow: allow('publish') }, subscribe: { allow: allow('subscribe') } };
}

describe('ci/gpu-batch-values.yaml: one sweep as a Job, GPU trainers', () => {
  const file = 'ci/gpu-batch-values.yaml';

  test('every object validates and every common check passes; four trainers with a GPU each', async () => {
    const r = await rendered(file);
    assert.deepEqual(commonProblems(r, [generatedToken]), []);
    assert.deepEqual(checkTrainerGpus(r.objects, 1), []);
    assert.equal(named<IDeployment>(r.objects, 'Deployment', `${FULLNAME}-trainer`).spec?.replicas, 4);
    assert.equal(ofKind(r.objects, 'ServiceMonitor').length, 1);
  });

  test('the PrometheusRule carries exactly the alert rules of deploy/prometheus/rules.yml (the ones promtool tests)', async () => {
    const r = await rendered(file);
    const rule = only(ofKind<{ metadata: { labels: Record<string, string> }; spec: unknown }>(r.objects, 'PrometheusRule'), 'PrometheusRule');
    assert.deepEqual(rule.spec, parse(readFileSync(fileURLToPath(new URL('../../deploy/prometheus/rules.yml', import.meta.url)), 'utf8')));
    assert.equal(rule.metadata.labels.release, 'kube-prometheus-stack');
    assert.equal(ofKind((await rendered('ci/keda-values.yaml')).objects, 'PrometheusRule').length, 0, 'off unless asked for');
  });

  test('the coordinator is a Job running --batch on the sweep file from the ConfigMap, which is the values sweep and parses', async () => {
    const { objects, values } = await rendered(file);
    assert.equal(ofKind<IDeployment>(objects, 'Deployment').filter((d) => d.metadata.name.endsWith('-coordinator')).length, 0, 'no coordinator Deployment in batch mode');
    const job = only(ofKind<IJob>(objects, 'Job'), 'Job');
    assert.equal(job.spec?.template.spec?.restartPolicy, 'Never');
    assert.equal(job.spec?.parallelism, 1);
    assert.equal(job.spec?.backoffLimit, 3);
    assert.deepEqual(job.spec?.podFailurePolicy?.rules, [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }], 'a drained node does not use up the retries');
    const pod = only(podsWithComponent(objects, 'coordinator'), 'coordinator pod');
    const c = container(pod, 'coordinator');
    const sweepPath = argAfter(c, '--batch');
    assert.equal(sweepPath, '/etc/cellsweep/sweep.yaml');
    const mount = c.volumeMounts?.find((m) => sweepPath?.startsWith(m.mountPath + '/'));
    const volume = pod.template.spec?.volumes?.find((v) => v.name === mount?.name);
    const configMap = named<IConfigMap>(objects, 'ConfigMap', volume?.configMap?.name ?? '(no configMap volume)');
    const sweep = configMap.data?.['sweep.yaml'];
    const batch = values.batch as { sweep: string };
    assert.equal(sweep, batch.sweep);
    const config = parseSweep(sweep, `${file} batch.sweep`, '/data');
    assert.deepEqual(config.studies.map((s) => s.dataset), ['/data/pairs/GSE117872_HN120', '/data/pairs/GSE110894']);
  });
});

describe('ci/external-nats-values.yaml: NATS elsewhere, .creds files', () => {
  const file = 'ci/external-nats-values.yaml';

  test('every object validates and every common check passes; nothing of the NATS chart is rendered', async () => {
    const r = await rendered(file);
    assert.deepEqual(commonProblems(r, [generatedToken]), []);
    assert.deepEqual(checkTrainerGpus(r.objects, 1), []);
    assert.deepEqual(r.objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'nats').map((o) => o.metadata.name), []);
  });

  test('both sides use the external URL and their own .creds file; NATS egress goes where networkPolicy.natsTo says', async () => {
    const { objects, values } = await rendered(file);
    const url = (values.externalNats as { url: string }).url;
    const natsAuth = values.natsAuth as Record<'coordinator' | 'trainer', { existingSecret: string }>;
    for (const side of ['coordinator', 'trainer'] as const) {
      const pod = only(podsWithComponent(objects, side), `${side} pod`);
      const c = container(pod, side);
      assert.equal(envOf(c, 'NATS_URL'), url);
      assert.equal(argAfter(c, '--nats'), url);
      assert.equal(envOf(c, 'NATS_PASSWORD'), undefined);
      assert.equal((c.env ?? []).some((e) => e.name === 'NATS_PASSWORD'), false, 'no password with creds');
      const creds = envOf(c, 'NATS_CREDS');
      assert.deepEqual(secretBehind(pod, c, creds ?? ''), { secret: natsAuth[side].existingSecret, key: 'creds' });
      const policy = named<INetworkPolicy>(objects, 'NetworkPolicy', `${FULLNAME}-${side}`);
      const natsRule = policy.spec?.egress?.find((rule) => rule.ports?.some((p) => p.port === 4222));
      assert.deepEqual(natsRule?.to, (values.networkPolicy as { natsTo: unknown[] }).natsTo);
    }
    const grpcRule = named<INetworkPolicy>(objects, 'NetworkPolicy', `${FULLNAME}-coordinator`).spec?.ingress?.find((rule) => rule.ports?.some((p) => p.port === 'grpc'));
    assert.deepEqual(grpcRule?.from, (values.networkPolicy as { grpcFrom: unknown[] }).grpcFrom);
  });
});

describe('ci/keda-values.yaml: trainers scaled by KEDA on the JetStream lag', () => {
  const file = 'ci/keda-values.yaml';

  test('every object validates and every common check passes; no Secret with data at all (the token Secret exists already)', async () => {
    const r = await rendered(file);
    assert.deepEqual(commonProblems(r, []), []);
    assert.deepEqual(checkTrainerGpus(r.objects, 1), []);
    assert.deepEqual(ofKind(r.objects, 'Secret'), []);
    const pod = only(podsWithComponent(r.objects, 'coordinator'), 'coordinator pod');
    const c = container(pod, 'coordinator');
    assert.deepEqual(secretBehind(pod, c, argAfter(c, '--token-file') ?? ''), { secret: 'cellsweep-study-token', key: 'token' });
  });

  test('the ScaledObject scales the trainer Deployment on the trainers consumer of the runs stream; the Deployment leaves replicas to it', async () => {
    const { objects } = await rendered(file);
    const scaled = only(ofKind<IScaledObject>(objects, 'ScaledObject'), 'ScaledObject');
    const trainers = named<IDeployment>(objects, 'Deployment', `${FULLNAME}-trainer`);
    assert.equal(scaled.spec.scaleTargetRef.name, trainers.metadata.name);
    assert.equal(trainers.spec?.replicas, undefined, 'a replicas field would fight KEDA on every upgrade');
    assert.deepEqual([scaled.spec.minReplicaCount, scaled.spec.maxReplicaCount], [0, 16]);
    const trigger = only(scaled.spec.triggers, 'trigger');
    assert.equal(trigger.type, 'nats-jetstream');
    const headless = named<IService>(objects, 'Service', `${RELEASE}-nats-headless`);
    assert.equal(headless.spec?.clusterIP, 'None');
    const monitorPort = headless.spec?.ports?.find((p) => p.name === 'monitor')?.port;
    assert.deepEqual(trigger.metadata, {
      natsServerMonitoringEndpoint: `${headless.metadata.name}.${NAMESPACE}.svc.cluster.local:${monitorPort}`,
      account: '$G',
      stream: RUNS_STREAM,
      consumer: TRAINERS_CONSUMER,
      lagThreshold: '1',
      activationLagThreshold: '0',
      useHttps: 'false',
    });
  });
});

describe('ci/tls-values.yaml: StudyService with client certificates, NATS over TLS', () => {
  const file = 'ci/tls-values.yaml';

  test('every object validates and every common check passes', async () => {
    const r = await rendered(file);
    assert.deepEqual(commonProblems(r, [generatedToken]), []);
    assert.deepEqual(checkTrainerGpus(r.objects, 1), []);
  });

  test('TLS files come from the named Secrets through mounts; probes stay plain HTTP on the metrics port', async () => {
    const { objects } = await rendered(file);
    const pod = only(podsWithComponent(objects, 'coordinator'), 'coordinator pod');
    const c = container(pod, 'coordinator');
    assert.deepEqual(secretBehind(pod, c, argAfter(c, '--tls-cert') ?? ''), { secret: 'cellsweep-grpc-tls', key: 'tls.crt' });
    assert.deepEqual(secretBehind(pod, c, argAfter(c, '--tls-key') ?? ''), { secret: 'cellsweep-grpc-tls', key: 'tls.key' });
    assert.deepEqual(secretBehind(pod, c, argAfter(c, '--tls-client-ca') ?? ''), { secret: 'cellsweep-grpc-client-ca', key: 'ca.crt' });
    for (const side of ['coordinator', 'trainer']) {
      const p = only(podsWithComponent(objects, side), `${side} pod`);
      const s = container(p, side);
      assert.deepEqual(secretBehind(p, s, envOf(s, 'NATS_TLS_CA') ?? ''), { secret: 'cellsweep-nats-ca', key: 'ca.crt' });
      assert.deepEqual(secretBehind(p, s, envOf(s, 'NATS_TLS_CERT') ?? ''), { secret: 'cellsweep-nats-client-tls', key: 'tls.crt' });
      assert.deepEqual(secretBehind(p, s, envOf(s, 'NATS_TLS_KEY') ?? ''), { secret: 'cellsweep-nats-client-tls', key: 'tls.key' });
      // The kubelet's grpc probe cannot do TLS.
      for (const probe of [s.readinessProbe, s.livenessProbe]) assert.equal(probe?.httpGet?.port, 'metrics');
    }
  });
});

describe('values.schema.json', () => {
  test('rejects a misspelt key and a wrong type instead of ignoring them', async () => {
    const home = join(work, 'helm-home');
    const typo = await runHelm(home, ['template', RELEASE, chart, '--set', 'trainer.gpu=1']);
    assert.notEqual(typo.code, 0);
    assert.match(typo.stderr, /Additional property gpu is not allowed/);
    const wrongType = await runHelm(home, ['template', RELEASE, chart, '--set', 'trainer.gpus=one']);
    assert.notEqual(wrongType.code, 0);
    assert.match(wrongType.stderr, /gpus/);
  });

  test('the values files hold no secret values: credentials are Secret names', () => {
    for (const file of ['values.yaml', ...VALUES_FILES]) assert.deepEqual(secretLiterals(parse(readFileSync(join(CHART, file), 'utf8')), file), []);
    assert.deepEqual(secretLiterals({ natsAuth: { trainer: { password: 'hunter2' } }, users: [{ token: 'abc' }] }, 'bad.yaml'), ['bad.yaml: natsAuth.trainer.password', 'bad.yaml: users[0].token']);
  });
});

describe('the images the chart runs (deploy/docker)', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const dockerfiles = ['deploy/docker/coordinator.Dockerfile', 'deploy/docker/trainer-gpu.Dockerfile'];

  /** Top-level paths of every file bin/cellsweep.mjs reaches through relative imports and `new URL(...)` reads. */
  function runtimeRoots(): string[] {
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      if (!/\.(ts|mjs|js)$/.test(file)) return;
      const text = readFileSync(join(root, file), 'utf8');
      const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'|new URL\('(\.[^']+)'/g)].map((m) => (m[1] ?? m[2])!);
      for (const spec of specs) {
        const target = join(file, '..', spec).replace(/\.js$/, '.ts');
        visit(target);
      }
    };
    visit('bin/cellsweep.mjs');
    return [...new Set([...seen].map((f) => (f.includes('/') ? f.slice(0, f.indexOf('/')) + '/' : f)))].sort();
  }

  test('each image copies every path the CLI loads at run time, and .dockerignore lets them through', () => {
    const roots = runtimeRoots();
    assert.ok(roots.includes('cli/') && roots.includes('coordinator/') && roots.includes('trainer/'), `followed the imports: ${roots.join(', ')}`);
    const allowed = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').filter((l) => l.startsWith('!')).map((l) => l.slice(1).trim());
    for (const file of dockerfiles) {
      const text = readFileSync(join(root, file), 'utf8');
      const copied = [...text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/)).map((p) => (/\.\w+$/.test(p) ? p : `${p}/`));
      for (const path of roots) assert.ok(copied.includes(path), `${file} copies ${path} (it copies ${copied.join(', ')})`);
      for (const path of copied) assert.ok(allowed.includes(path), `.dockerignore lets ${path} into the build context`);
    }
  });

  test("each image runs as the chart's non-root user, takes the chart's arguments, and pins its bases", async () => {
    const { values } = await rendered();
    const pod = values.podSecurityContext as { runAsUser: number; runAsGroup: number };
    for (const file of dockerfiles) {
      const text = readFileSync(join(root, file), 'utf8');
      const users = [...text.matchAll(/^USER (.+)$/gm)].map((m) => m[1]);
      assert.deepEqual(users, [`${pod.runAsUser}:${pod.runAsGroup}`], `${file}: numeric USER, the chart's runAsUser:runAsGroup`);
      assert.match(text, /^ENTRYPOINT \["node", "\/app\/bin\/cellsweep\.mjs"\]$/m, `${file}: the chart passes the command line as args`);
      assert.match(text, /npm ci --omit=dev/);
      const bases = [...text.matchAll(/^ARG \w+_IMAGE=(\S+)$/gm)].map((m) => m[1]!);
      assert.ok(bases.length > 0, `${file} names its base images`);
      for (const base of bases) assert.match(base, /^[\w./-]+:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?$/, `${file}: ${base} is pinned to an exact version`);
    }
    assert.match(readFileSync(join(root, dockerfiles[1]!), 'utf8'), /npm install --no-save .*@tensorflow\/tfjs-node-gpu@4\.22\.0/s);
  });
});

describe('the checks catch what they check (a rendered chart broken on purpose)', () => {
  const broken = async (file: string | undefined, breakIt: (objects: K8sObject[]) => void): Promise<K8sObject[]> => {
    const objects = structuredClone((await rendered(file)).objects);
    breakIt(objects);
    return objects;
  };
  const trainerContainer = (objects: K8sObject[]): IContainer => container(only(podsWithComponent(objects, 'trainer'), 'trainer pod'), 'trainer');
  const coordinatorPod = (objects: K8sObject[]): Pod => only(podsWithComponent(objects, 'coordinator'), 'coordinator pod');

  test('no GPU request on the trainers', async () => {
    const objects = await broken(undefined, (o) => delete trainerContainer(o).resources?.requests?.['nvidia.com/gpu']);
    assert.match(checkTrainerGpus(objects, 1).join('\n'), /requests nvidia\.com\/gpu is undefined/);
  });

  test('no readiness probe, and a liveness probe on an undeclared port', async () => {
    const objects = await broken(undefined, (o) => {
      delete trainerContainer(o).readinessProbe;
      container(coordinatorPod(o), 'coordinator').livenessProbe!.httpGet!.port = 'health';
    });
    const problems = checkProbes(objects).join('\n');
    assert.match(problems, /trainer: no readinessProbe/);
    assert.match(problems, /livenessProbe probes port health/);
  });

  test('a writable root filesystem, root allowed, /tmp not an emptyDir', async () => {
    const objects = await broken(undefined, (o) => {
      trainerContainer(o).securityContext!.readOnlyRootFilesystem = false;
      const pod = coordinatorPod(o);
      delete pod.template.spec!.securityContext!.runAsNonRoot;
      delete container(pod, 'coordinator').securityContext!.runAsNonRoot;
      pod.template.spec!.volumes = pod.template.spec!.volumes!.filter((v) => v.name !== 'tmp');
    });
    const problems = checkSecurity(objects).join('\n');
    assert.match(problems, /trainer: readOnlyRootFilesystem is not true/);
    assert.match(problems, /coordinator: runAsNonRoot is not true/);
    assert.match(problems, /coordinator: \/tmp is not an emptyDir/);
  });

  test('a password in an env value, a Secret with literal data, a token flag', async () => {
    const objects = await broken(undefined, (o) => {
      trainerContainer(o).env!.push({ name: 'NATS_PASSWORD', value: 'hunter2hunter2' });
      container(coordinatorPod(o), 'coordinator').args!.push('--token=abcdefghijklmnopq');
      o.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'nats-passwords' }, stringData: { password: 'hunter2' } });
    });
    const problems = checkNoSecretValues(objects, [generatedToken]).join('\n');
    assert.match(problems, /env NATS_PASSWORD has a literal value/);
    assert.match(problems, /Secret\/nats-passwords: a Secret with literal data/);
    assert.match(problems, /--token=abcdefghijklmnopq puts a secret on the command line/);
  });

  test('a Service selecting the wrong pods, a Deployment whose selector misses its pods', async () => {
    const objects = await broken(undefined, (o) => {
      named<IService>(o, 'Service', `${FULLNAME}-coordinator`).spec!.selector!['app.kubernetes.io/component'] = 'trainer';
      named<IDeployment>(o, 'Deployment', `${FULLNAME}-trainer`).spec!.selector.matchLabels!['app.kubernetes.io/component'] = 'trainers';
    });
    const problems = checkSelectors(objects, NAMESPACE).join('\n');
    assert.match(problems, new RegExp(`Service/${FULLNAME}-coordinator \\(coordinator\\) selects Deployment/${FULLNAME}-trainer`));
    assert.match(problems, new RegExp(`Deployment/${FULLNAME}-trainer: selector does not match`));
  });

  test('a ServiceMonitor on a missing port or missing a Service; a NetworkPolicy selecting nothing', async () => {
    const objects = await broken('ci/keda-values.yaml', (o) => {
      const monitor = only(ofKind<{ spec: { endpoints: Array<{ port: string }>; selector: { matchExpressions: Array<{ values: string[] }> } } }>(o, 'ServiceMonitor'), 'ServiceMonitor');
      monitor.spec.endpoints[0]!.port = 'prometheus';
      monitor.spec.selector.matchExpressions[0]!.values = ['coordinator'];
      named<INetworkPolicy>(o, 'NetworkPolicy', `${FULLNAME}-trainer`).spec!.podSelector.matchLabels!['app.kubernetes.io/component'] = 'worker';
    });
    const problems = checkSelectors(objects, NAMESPACE).join('\n');
    assert.match(problems, /endpoint port prometheus is not a port of/);
    assert.match(problems, /selects \[sweeps-cellsweep-coordinator\], expected the Services with a metrics port \[sweeps-cellsweep-coordinator, sweeps-cellsweep-trainer-metrics\]/);
    assert.match(problems, new RegExp(`NetworkPolicy/${FULLNAME}-trainer: podSelector selects no cellsweep pod`));
    assert.match(problems, new RegExp(`Deployment/${FULLNAME}-trainer: not under a NetworkPolicy`));
  });

  test('a ScaledObject aimed at the coordinator', async () => {
    const objects = await broken('ci/keda-values.yaml', (o) => {
      only(ofKind<IScaledObject>(o, 'ScaledObject'), 'ScaledObject').spec.scaleTargetRef.name = `${FULLNAME}-coordinator`;
    });
    assert.match(checkSelectors(objects, NAMESPACE).join('\n'), /which is not the trainers/);
  });

  test('an object that breaks its schema, and a kind nobody validates', async () => {
    const objects = await broken(undefined, (o) => {
      (named<IDeployment>(o, 'Deployment', `${FULLNAME}-trainer`).spec as unknown as { replicas: string }).replicas = 'two';
      o.push({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } });
    });
    const problems = checkSchemas(objects).join('\n');
    assert.match(problems, /replicas must be integer/);
    assert.match(problems, /Widget\/w: no schema/);
  });

  test('selects: matchLabels and matchExpressions as Kubernetes reads them', () => {
    const labels = { a: '1', b: '2' };
    assert.equal(selects({ matchLabels: { a: '1' } }, labels), true);
    assert.equal(selects({ matchLabels: { a: '2' } }, labels), false);
    assert.equal(selects({ matchExpressions: [{ key: 'b', operator: 'In', values: ['2', '3'] }] }, labels), true);
    assert.equal(selects({ matchExpressions: [{ key: 'b', operator: 'NotIn', values: ['2'] }] }, labels), false);
    assert.equal(selects({ matchExpressions: [{ key: 'c', operator: 'DoesNotExist' }] }, labels), true);
    assert.equal(selects({}, labels), true, 'the empty selector selects everything');
    assert.equal(selects(undefined, labels), false, 'a missing selector selects nothing');
  });
});
