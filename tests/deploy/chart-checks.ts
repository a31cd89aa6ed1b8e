import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job, type IJob } from 'kubernetes-models/batch/v1/Job';
import { NetworkPolicy, type INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import { Secret, type ISecret } from 'kubernetes-models/v1/Secret';
import { Service, type IService } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { ServiceMonitor, type IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ScaledObject, type IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';

/**
 * Checks on a rendered chart. Each returns the problems it finds (empty: none),
 * so a test can assert both that the chart passes and, on a deliberately broken
 * copy of its output, that the check catches the break.
 */

export type Labels = Record<string, string>;

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Labels; annotations?: Labels };
  [field: string]: unknown;
}

interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

const COMPONENT = 'app.kubernetes.io/component';
const PART_OF = 'app.kubernetes.io/part-of';

export const id = (o: K8sObject): string => `${o.kind}/${o.metadata.name}`;
export const ofKind = <T>(objects: K8sObject[], kind: string): Array<T & K8sObject> => objects.filter((o) => o.kind === kind) as Array<T & K8sObject>;

// --- Schemas ------------------------------------------------------------------

type Validate = (object: K8sObject) => void;
function validator<T>(Model: new (data: T) => { validate(): void }): Validate {
  return (object) => new Model(object as T).validate();
}

/**
 * kubernetes-models validates against the Kubernetes OpenAPI schemas (types,
 * required fields, formats, enums); the CRDs through the maintained
 * @kubernetes-models packages generated from the Prometheus Operator's and
 * KEDA's CRD schemas. These schemas do not forbid unknown fields (the API
 * server's strict field validation does), so a misspelt field passes here; the
 * chart tests assert on every field that matters by name, which catches those.
 */
const SCHEMAS: Record<string, Validate> = {
  'v1/ConfigMap': validator(ConfigMap),
  'v1/Secret': validator(Secret),
  'v1/Service': validator(Service),
  'v1/ServiceAccount': validator(ServiceAccount),
  'apps/v1/Deployment': validator(Deployment),
  'apps/v1/StatefulSet': validator(StatefulSet),
  'batch/v1/Job': validator(Job),
  'networking.k8s.io/v1/NetworkPolicy': validator(NetworkPolicy),
  'monitoring.coreos.com/v1/ServiceMonitor': validator(ServiceMonitor),
  'monitoring.coreos.com/v1/PrometheusRule': validator(PrometheusRule),
  'keda.sh/v1alpha1/ScaledObject': validator(ScaledObject),
};

export function checkSchemas(objects: K8sObject[]): string[] {
  return objects.flatMap((o) => {
    const validate = SCHEMAS[`${o.apiVersion}/${o.kind}`];
    if (validate === undefined) return [`${id(o)}: no schema for ${o.apiVersion} ${o.kind}; add its kubernetes-models class to SCHEMAS`];
    try {
      validate(o);
      return [];
    } catch (err) {
      return [`${id(o)}: ${(err as Error).message}`];
    }
  });
}

// --- Pods ---------------------------------------------------------------------

export interface Pod {
  owner: string;
  template: IPodTemplateSpec;
}

/** Every pod template in the render: Deployments, StatefulSets and Jobs. */
export function podsOf(objects: K8sObject[]): Pod[] {
  return objects.flatMap((o) => {
    if (o.kind !== 'Deployment' && o.kind !== 'StatefulSet' && o.kind !== 'Job') return [];
    const template = (o as unknown as IDeployment | IJob).spec?.template;
    return template === undefined ? [] : [{ owner: id(o), template }];
  });
}

export const containersOf = (pod: Pod): IContainer[] => [...(pod.template.spec?.initContainers ?? []), ...(pod.template.spec?.containers ?? [])];
const labelsOf = (pod: Pod): Labels => pod.template.metadata?.labels ?? {};
export const podsWithComponent = (objects: K8sObject[], component: string): Pod[] => podsOf(objects).filter((p) => labelsOf(p)[COMPONENT] === component);

export function selects(selector: LabelSelector | undefined, labels: Labels): boolean {
  // A null selector selects nothing; the empty one selects everything.
  if (selector === undefined) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    switch (operator) {
      case 'In':
        return labels[key] !== undefined && values.includes(labels[key]);
      case 'NotIn':
        return labels[key] === undefined || !values.includes(labels[key]);
      case 'Exists':
        return key in labels;
      case 'DoesNotExist':
        return !(key in labels);
      default:
        return false;
    }
  });
  return byLabels && byExpressions;
}

function hasPort(container: IContainer, port: number | string | undefined): boolean {
  return (container.ports ?? []).some((p) => (typeof port === 'number' ? p.containerPort === port : p.name === port));
}

/** GPUs on every trainer container: requested and limited alike (extended resources need both equal). */
export function checkTrainerGpus(objects: K8sObject[], expected: number, resource = 'nvidia.com/gpu'): string[] {
  const pods = podsWithComponent(objects, 'trainer');
  if (pods.length === 0) return ['no trainer pods rendered'];
  return pods.flatMap((pod) =>
    (pod.template.spec?.containers ?? []).flatMap((c) => {
      const request = c.resources?.requests?.[resource];
      const limit = c.resources?.limits?.[resource];
      const problems: string[] = [];
      if (expected === 0) {
        if (request !== undefined || limit !== undefined) problems.push(`${pod.owner}/${c.name}: ${resource} set although no GPU was asked for`);
      } else {
        if (Number(request) !== expected) problems.push(`${pod.owner}/${c.name}: requests ${resource} is ${String(request)}, expected ${expected}`);
        if (Number(limit) !== expected) problems.push(`${pod.owner}/${c.name}: limits ${resource} is ${String(limit)}, expected ${expected}`);
      }
      return problems;
    }),
  );
}

/** Readiness and liveness probes on every long-running container, pointed at one of its own ports. */
export function checkProbes(objects: K8sObject[]): string[] {
  return podsOf(objects).flatMap((pod) =>
    (pod.template.spec?.containers ?? []).flatMap((c) =>
      (['readinessProbe', 'livenessProbe'] as const).flatMap((kind) => {
        const probe = c[kind];
        if (probe === undefined) return [`${pod.owner}/${c.name}: no ${kind}`];
        const port = probe.httpGet?.port ?? probe.grpc?.port ?? probe.tcpSocket?.port;
        if (probe.exec === undefined && !hasPort(c, port)) return [`${pod.owner}/${c.name}: ${kind} probes port ${String(port)}, which the container does not declare`];
        return [];
      }),
    ),
  );
}

/** Not root, read-only root filesystem, no privilege escalation, no capabilities, and a writable /tmp. */
export function checkSecurity(objects: K8sObject[]): string[] {
  return podsOf(objects).flatMap((pod) => {
    const podContext = pod.template.spec?.securityContext ?? {};
    const volumes = pod.template.spec?.volumes ?? [];
    return containersOf(pod).flatMap((c) => {
      const where = `${pod.owner}/${c.name}`;
      const context = c.securityContext ?? {};
      const problems: string[] = [];
      if ((context.runAsNonRoot ?? podContext.runAsNonRoot) !== true) problems.push(`${where}: runAsNonRoot is not true`);
      if ((context.runAsUser ?? podContext.runAsUser) === 0) problems.push(`${where}: runs as uid 0`);
      if (context.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem is not true`);
      if (context.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
      if (!(context.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where}: capabilities are not dropped (drop: [ALL])`);
      const tmp = (c.volumeMounts ?? []).find((m) => m.mountPath === '/tmp');
      const tmpVolume = volumes.find((v) => v.name === tmp?.name);
      if (tmpVolume?.emptyDir === undefined) problems.push(`${where}: /tmp is not an emptyDir (the root filesystem is read-only)`);
      return problems;
    });
  });
}

/** CPU and memory requests on every container, so the scheduler can place it. */
export function checkResources(objects: K8sObject[]): string[] {
  return podsOf(objects).flatMap((pod) =>
    containersOf(pod).flatMap((c) =>
      (['cpu', 'memory'] as const).filter((r) => c.resources?.requests?.[r] === undefined).map((r) => `${pod.owner}/${c.name}: no ${r} request`),
    ),
  );
}

// --- Secrets ------------------------------------------------------------------

const SECRET_NAME = /PASSW|TOKEN|SECRET|PRIVATE|API_?KEY|CREDENTIAL/i;
const SECRET_FILE_VARS = ['NATS_CREDS', 'NATS_NKEY', 'NATS_TLS_KEY'];
const SECRET_FLAGS = /^--(token|password|nats-password|nats-user-password|secret)(=|$)/;

/**
 * No secret value in the manifests: the only Secret with data is the generated
 * token (`allowedSecrets`); secret-looking variables come from secretKeyRef;
 * credential file variables point into mounted Secret volumes; no flag carries a
 * secret on the command line.
 */
export function checkNoSecretValues(objects: K8sObject[], allowedSecrets: string[]): string[] {
  const problems: string[] = [];
  for (const secret of ofKind<ISecret>(objects, 'Secret')) {
    const keys = [...Object.keys(secret.data ?? {}), ...Object.keys(secret.stringData ?? {})];
    if (keys.length > 0 && !allowedSecrets.includes(secret.metadata.name)) problems.push(`${id(secret)}: a Secret with literal data (${keys.join(', ')}) in the chart`);
  }
  for (const pod of podsOf(objects)) {
    const secretVolumes = new Set((pod.template.spec?.volumes ?? []).filter((v) => v.secret !== undefined).map((v) => v.name));
    for (const c of containersOf(pod)) {
      const where = `${pod.owner}/${c.name}`;
      const secretDirs = (c.volumeMounts ?? []).filter((m) => secretVolumes.has(m.name)).map((m) => m.mountPath);
      for (const env of c.env ?? []) {
        if (env.value === undefined) continue;
        if (SECRET_FILE_VARS.includes(env.name)) {
          if (!secretDirs.some((dir) => env.value!.startsWith(dir + '/'))) problems.push(`${where}: ${env.name}=${env.value} is not a file in a mounted Secret`);
        } else if (SECRET_NAME.test(env.name)) {
          problems.push(`${where}: env ${env.name} has a literal value; secrets come from valueFrom.secretKeyRef`);
        }
      }
      for (const arg of [...(c.command ?? []), ...(c.args ?? [])]) {
        if (SECRET_FLAGS.test(arg)) problems.push(`${where}: ${arg} puts a secret on the command line`);
      }
    }
  }
  return problems;
}

/** The Secrets a pod reads: env secretKeyRefs and secret volumes. */
export function secretsReadBy(pod: Pod): string[] {
  const names = new Set<string>();
  for (const c of containersOf(pod)) for (const env of c.env ?? []) if (env.valueFrom?.secretKeyRef?.name !== undefined) names.add(env.valueFrom.secretKeyRef.name);
  for (const v of pod.template.spec?.volumes ?? []) if (v.secret?.secretName !== undefined) names.add(v.secret.secretName);
  return [...names].sort();
}

// --- Labels and selectors -----------------------------------------------------

/**
 * Workload selectors match their pods; each Service selects pods of its own
 * component and only those, on ports they declare; the ServiceMonitor selects
 * exactly the Services with a metrics port; every NetworkPolicy selects pods,
 * every pod is under one, and named ports exist; KEDA targets the trainers.
 */
export function checkSelectors(objects: K8sObject[], namespace: string): string[] {
  const problems: string[] = [];
  const pods = podsOf(objects);
  for (const d of [...ofKind<IDeployment>(objects, 'Deployment'), ...ofKind<IDeployment>(objects, 'StatefulSet')]) {
    const selector = d.spec?.selector;
    if (Object.keys(selector?.matchLabels ?? {}).length === 0 && (selector?.matchExpressions ?? []).length === 0) problems.push(`${id(d)}: empty selector`);
    else if (!selects(selector, d.spec?.template.metadata?.labels ?? {})) problems.push(`${id(d)}: selector does not match its pod template's labels`);
  }

  const services = ofKind<IService>(objects, 'Service');
  // The NATS chart's Services (or their test double) are not this chart's to check.
  for (const svc of services.filter((s) => s.metadata.labels?.[PART_OF] === 'cellsweep')) {
    const selector = svc.spec?.selector ?? {};
    if (Object.keys(selector).length === 0) {
      problems.push(`${id(svc)}: no selector`);
      continue;
    }
    const selected = pods.filter((p) => selects({ matchLabels: selector }, labelsOf(p)));
    if (selected.length === 0) problems.push(`${id(svc)}: selects no pod`);
    const component = svc.metadata.labels?.[COMPONENT];
    for (const pod of selected) {
      if (labelsOf(pod)[COMPONENT] !== component) problems.push(`${id(svc)} (${component}) selects ${pod.owner} (${labelsOf(pod)[COMPONENT]})`);
      for (const port of svc.spec?.ports ?? []) {
        const target = port.targetPort ?? port.port;
        if (!(pod.template.spec?.containers ?? []).some((c) => hasPort(c, target))) problems.push(`${id(svc)}: port ${port.name ?? port.port} targets ${String(target)}, which ${pod.owner} does not declare`);
      }
    }
  }

  for (const monitor of ofKind<IServiceMonitor>(objects, 'ServiceMonitor')) {
    const selected = services.filter((s) => selects(monitor.spec.selector as LabelSelector, s.metadata.labels ?? {}));
    const withMetrics = services.filter((s) => (s.spec?.ports ?? []).some((p) => p.name === 'metrics') && pods.some((p) => selects({ matchLabels: s.spec?.selector ?? {} }, labelsOf(p)) && labelsOf(p)[PART_OF] === 'cellsweep'));
    const names = (list: K8sObject[]): string => list.map((s) => s.metadata.name).sort().join(', ');
    if (names(selected) !== names(withMetrics)) problems.push(`${id(monitor)} selects [${names(selected)}], expected the Services with a metrics port [${names(withMetrics)}]`);
    for (const endpoint of monitor.spec.endpoints) {
      for (const svc of selected) if (!(svc.spec?.ports ?? []).some((p) => p.name === endpoint.port)) problems.push(`${id(monitor)}: endpoint port ${String(endpoint.port)} is not a port of ${id(svc)}`);
    }
    const namespaces = monitor.spec.namespaceSelector;
    if (namespaces !== undefined && namespaces.any !== true && !(namespaces.matchNames ?? []).includes(namespace)) problems.push(`${id(monitor)}: namespaceSelector leaves out ${namespace}`);
  }

  const policies = ofKind<INetworkPolicy>(objects, 'NetworkPolicy');
  const ours = pods.filter((p) => labelsOf(p)[PART_OF] === 'cellsweep');
  for (const policy of policies) {
    const selected = ours.filter((p) => selects(policy.spec?.podSelector as LabelSelector, labelsOf(p)));
    if (selected.length === 0) problems.push(`${id(policy)}: podSelector selects no cellsweep pod`);
    for (const rule of policy.spec?.ingress ?? []) {
      for (const port of rule.ports ?? []) {
        for (const pod of selected) {
          if (!(pod.template.spec?.containers ?? []).some((c) => hasPort(c, port.port))) problems.push(`${id(policy)}: ingress port ${String(port.port)} is not a port of ${pod.owner}`);
        }
      }
    }
  }
  if (policies.length > 0) {
    for (const pod of ours) {
      const under = policies.filter((p) => selects(p.spec?.podSelector as LabelSelector, labelsOf(pod)));
      const types = new Set(under.flatMap((p) => p.spec?.policyTypes ?? []));
      if (!types.has('Ingress') || !types.has('Egress')) problems.push(`${pod.owner}: not under a NetworkPolicy for both Ingress and Egress`);
    }
  }

  for (const scaled of ofKind<IScaledObject>(objects, 'ScaledObject')) {
    const target = objects.find((o) => o.kind === (scaled.spec.scaleTargetRef.kind ?? 'Deployment') && o.metadata.name === scaled.spec.scaleTargetRef.name);
    if (target === undefined) problems.push(`${id(scaled)}: scaleTargetRef ${scaled.spec.scaleTargetRef.name} is not rendered`);
    else if ((target as unknown as IDeployment).spec?.template.metadata?.labels?.[COMPONENT] !== 'trainer') problems.push(`${id(scaled)}: scales ${id(target)}, which is not the trainers`);
  }
  return problems;
}
