// The deployment files are code too: every Kubernetes object in deploy/k8s is
// validated against the Kubernetes API's schemas (kubernetes-models: ajv
// validators generated from Kubernetes' OpenAPI spec) and, since those schemas
// allow unknown fields (the API server drops them with a warning), type-checked
// by TypeScript against the same models' types, whose excess-property check
// rejects a misspelled field at any depth (both checks: test/helpers/k8s-schema.ts).
// lookout's config in them is parsed by lookout's own parseConfig, so a wrong
// key fails here and not at start-up, and lookout's exposure rule runs on that
// config with the environment the pod gets (the token from a Secret).
// deploy-docker.test.ts has the compose files and the Dockerfile.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { IDeployment, IStatefulSet } from 'kubernetes-models/apps/v1';
import type { IConfigMap, IService } from 'kubernetes-models/v1';
import type { IIoK8sApiCoreV1Container as IContainer, IIoK8sApiCoreV1PodSpec as IPodSpec } from 'kubernetes-models/v1';
import { need } from '../../src/auth/access-policy.js';
import { checkExposure } from '../../src/auth/exposure.js';
import { parseWithEnv } from '../../src/config/env.js';
import { parseConfig } from '../../src/config/parse.js';
import type { LookoutConfig } from '../../src/config/schema.js';
import { shardFromEnv } from '../../src/config/shard.js';
import { isBalancedTarget, parseTargets } from '../../src/tfserving/channels.js';
import { silentLogger } from '../../src/util/logger.js';
import { typeCheck, validateSchema, type K8sObject } from '../helpers/k8s-schema.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const k8sDir = path.join(root, 'deploy/k8s');
const NAMESPACE = 'lookout';

function loadDocs(file: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  return docs.map((doc, i) => {
    expect(doc.errors, `${file} document ${i}`).toEqual([]);
    return doc.toJS() as unknown;
  }).filter((d) => d !== null);
}

const manifestFiles = readdirSync(k8sDir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml').sort();
const objects = manifestFiles.flatMap((f) => loadDocs(path.join(k8sDir, f)).map((doc) => ({ file: f, doc: doc as K8sObject })));

function find<T>(kind: string, name: string): T {
  const found = objects.find((o) => o.doc.kind === kind && o.doc.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} named ${name} in deploy/k8s`);
  return found.doc as T;
}

function container(spec: IPodSpec | undefined, name: string): IContainer {
  const c = spec?.containers.find((x) => x.name === name);
  if (!c) throw new Error(`no container ${name}`);
  return c;
}

function env(c: IContainer, name: string): string | undefined {
  return c.env?.find((e) => e.name === name)?.value;
}

describe('Kubernetes manifests (deploy/k8s)', () => {
  it('are there, with the objects the deployment needs', () => {
    expect(manifestFiles).toEqual(['lookout.yaml', 'namespace.yaml', 'tfserving.yaml']);
    const names = objects.map((o) => `${o.doc.kind}/${o.doc.metadata?.name ?? ''}`).sort();
    expect(names).toEqual([
      'ConfigMap/lookout-config',
      'Deployment/tfserving',
      'Namespace/lookout',
      'PersistentVolumeClaim/tfserving-models',
      'Service/lookout',
      'Service/lookout-headless',
      'Service/tfserving-headless',
      'StatefulSet/lookout',
    ]);
  });

  it('every object passes the Kubernetes schema of its kind', () => {
    for (const { file, doc } of objects) {
      expect(() => validateSchema(doc), `${file}: ${doc.kind} ${doc.metadata?.name ?? ''}`).not.toThrow();
    }
  });

  it('every object type-checks against the Kubernetes types, with no unknown field', () => {
    expect(typeCheck(objects.map((o) => o.doc))).toEqual([]);
  }, 60_000);

  it('the checks reject broken manifests', () => {
    const deployment = structuredClone(find<IDeployment>('Deployment', 'tfserving'));
    // A wrong type: the schema check.
    const wrongType = { ...deployment, spec: { ...deployment.spec, replicas: 'two' } };
    expect(() => validateSchema(wrongType)).toThrow(/spec\/replicas must be integer/);
    const noName = structuredClone(deployment);
    delete (noName.spec?.template.spec?.containers[0] as Partial<IContainer>).name;
    expect(() => validateSchema(noName)).toThrow(/containers\/0 must have required property name/);
    const badQuantity = structuredClone(deployment);
    container(badQuantity.spec?.template.spec, 'tfserving').resources = { limits: { memory: 'lots' } };
    expect(() => validateSchema(badQuantity)).toThrow(/quantity/);
    // Misspelled fields, at the top of spec and deep in a container: the strict check.
    const statefulSet = structuredClone(find<IStatefulSet>('StatefulSet', 'lookout'));
    const typo = { ...statefulSet, spec: { ...statefulSet.spec, replica: 3 } };
    const c = container(statefulSet.spec?.template.spec, 'lookout');
    const deepTypo = structuredClone(statefulSet);
    const probe = c.readinessProbe;
    const deepContainer: Record<string, unknown> = { ...c, readinesProbe: probe };
    delete deepContainer.readinessProbe;
    (deepTypo.spec?.template.spec as { containers: unknown[] }).containers = [deepContainer];
    const errors = typeCheck([typo, deepTypo, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' }, spec: { clusterIp: 'None' } }]);
    expect(errors.join('\n')).toMatch(/"replica"' does not exist in type 'IStatefulSetSpec'/);
    expect(errors.join('\n')).toMatch(/"readinesProbe"' does not exist in type 'IContainer'/);
    expect(errors.join('\n')).toMatch(/"clusterIp"' does not exist in type 'IServiceSpec'/);
    expect(errors).toHaveLength(3);
    // An unknown kind is not waved through.
    expect(() => validateSchema({ apiVersion: 'apps/v1', kind: 'Deploymnet' })).toThrow(/no schema/);
  }, 60_000);

  it('kustomization.yaml lists every manifest, and every object is in the lookout namespace', () => {
    const kustomization = parseYaml(readFileSync(path.join(k8sDir, 'kustomization.yaml'), 'utf8')) as { kind: string; resources: string[] };
    expect(kustomization.kind).toBe('Kustomization');
    expect([...kustomization.resources].sort()).toEqual(manifestFiles);
    for (const { doc } of objects) {
      if (doc.kind === 'Namespace') expect(doc.metadata?.name).toBe(NAMESPACE);
      else expect(doc.metadata?.namespace, `${doc.kind} ${doc.metadata?.name ?? ''}`).toBe(NAMESPACE);
    }
  });

  it('Services select pods that exist and target ports those pods name', () => {
    const workloads = objects.filter((o) => o.doc.kind === 'Deployment' || o.doc.kind === 'StatefulSet').map((o) => o.doc as IDeployment | IStatefulSet);
    for (const svc of objects.filter((o) => o.doc.kind === 'Service').map((o) => o.doc as IService)) {
      const selector = svc.spec?.selector ?? {};
      const target = workloads.find((w) => Object.entries(selector).every(([k, v]) => w.spec?.template.metadata?.labels?.[k] === v));
      expect(target, `Service ${svc.metadata?.name ?? ''} selects no pods`).toBeDefined();
      const portNames = (target?.spec?.template.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => p.name));
      for (const port of svc.spec?.ports ?? []) {
        if (typeof port.targetPort === 'string') expect(portNames, `Service ${svc.metadata?.name ?? ''} port ${port.name ?? ''}`).toContain(port.targetPort);
      }
    }
  });

  describe('TF Serving', () => {
    const deployment = find<IDeployment>('Deployment', 'tfserving');
    const c = container(deployment.spec?.template.spec, 'tfserving');
    const modelName = env(c, 'MODEL_NAME');

    it('runs on a GPU, probes the model over REST and mounts the models volume', () => {
      expect(c.image).toBe('tensorflow/serving:latest-gpu');
      expect(c.resources?.limits?.['nvidia.com/gpu']).toBe(1);
      expect(modelName).toBe('detector');
      expect(c.ports?.map((p) => p.containerPort).sort()).toEqual([8500, 8501]);
      for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
        expect(probe?.httpGet?.path).toMatch(new RegExp(`^/v1/models/${modelName ?? ''}(/metadata)?$`));
        expect(probe?.httpGet?.port).toBe('rest');
      }
      // The image serves /models/$MODEL_NAME; the claim is mounted at /models.
      const mount = c.volumeMounts?.find((m) => m.mountPath === '/models');
      expect(mount?.readOnly).toBe(true);
      const volume = deployment.spec?.template.spec?.volumes?.find((v) => v.name === mount?.name);
      expect(volume?.persistentVolumeClaim?.claimName).toBe('tfserving-models');
    });

    it('has a headless Service with the gRPC port', () => {
      const svc = find<IService>('Service', 'tfserving-headless');
      expect(svc.spec?.clusterIP).toBe('None');
      expect(svc.spec?.ports?.find((p) => p.name === 'grpc')?.port).toBe(8500);
    });
  });

  describe('lookout StatefulSet', () => {
    const sts = find<IStatefulSet>('StatefulSet', 'lookout');
    const pod = sts.spec?.template.spec;
    const c = container(pod, 'lookout');
    const configMap = find<IConfigMap>('ConfigMap', 'lookout-config');
    const config: LookoutConfig = parseConfig(parseYaml(configMap.data?.['lookout.yaml'] ?? '') as unknown, 'ConfigMap lookout-config');

    it("embeds a config lookout's parseConfig accepts, pointing at every TF Serving replica", () => {
      const address = config.modelServer.address ?? [];
      expect(parseTargets(address)).toEqual(['dns:///tfserving-headless.lookout.svc.cluster.local:8500']);
      expect(isBalancedTarget(address[0])).toBe(true);
      expect(config.modelServer.modelName).toBe(env(container(find<IDeployment>('Deployment', 'tfserving').spec?.template.spec, 'tfserving'), 'MODEL_NAME'));
      expect(config.modelServer.signatureName).toBe('serving_default');
      expect(config.cameras.length).toBeGreaterThan(1);
      expect(config.cameras.every((cam) => cam.url.startsWith('rtsp://'))).toBe(true);
      expect(config.http.port).toBe(8080);
    });

    it('mounts the config where its args read it, and the log on a volume claim', () => {
      expect(sts.spec?.serviceName).toBe('lookout-headless');
      expect(find<IService>('Service', 'lookout-headless').spec?.clusterIP).toBe('None');
      expect(c.args).toEqual(['serve', '--config', '/config/lookout.yaml']);
      const configMount = c.volumeMounts?.find((m) => m.mountPath === '/config');
      expect(pod?.volumes?.find((v) => v.name === configMount?.name)?.configMap?.name).toBe('lookout-config');
      expect(config.store.path).toBe('/data/lookout.db');
      const dataMount = c.volumeMounts?.find((m) => m.mountPath === '/data');
      expect(sts.spec?.volumeClaimTemplates?.map((t) => t.metadata?.name)).toContain(dataMount?.name);
      // The root filesystem is read-only: /tmp (ffmpeg's wrapper script) is a volume.
      expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
      expect(c.volumeMounts?.map((m) => m.mountPath)).toContain('/tmp');
    });

    it('probes /healthz and /readyz on the HTTP port, which need no login', () => {
      expect(c.ports?.find((p) => p.name === 'http')?.containerPort).toBe(config.http.port);
      expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
      expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
      for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) {
        expect(need('GET', probe?.httpGet?.path ?? '')).toBe('open');
        expect(probe?.httpGet?.httpHeaders).toBeUndefined();
      }
    });

    describe('starts with authentication only', () => {
      const doc = parseYaml(configMap.data?.['lookout.yaml'] ?? '') as unknown;
      /** The container's environment as the kubelet gives it to lookout-0, with `secrets` as the cluster's Secrets. */
      function podEnv(secrets: Record<string, Record<string, string>>): Record<string, string> {
        const out: Record<string, string> = {};
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (e.value !== undefined) out[e.name] = e.value;
          else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') out[e.name] = `${sts.metadata?.name ?? ''}-0`;
          else if (ref) {
            const value = secrets[ref.name ?? '']?.[ref.key];
            // A required key that is missing keeps the container from starting (CreateContainerConfigError).
            if (value === undefined && ref.optional !== true) throw new Error(`secret ${JSON.stringify(ref.name)} key ${ref.key} not found`);
            if (value !== undefined) out[e.name] = value;
          } else throw new Error(`env ${e.name}: a source this check does not know`);
        }
        return out;
      }
      const TOKEN = 'f3a9c2e81b7d4056a1c9e2b3d4f50617a8b9c0d1e2f30415';

      it('listens on 0.0.0.0, so lookout refuses to start with no authentication', () => {
        expect(config.http.host).toBe('0.0.0.0');
        expect(config.auth.enabled).toBeUndefined();
        expect(config.auth.token).toBeUndefined();
        expect(() => checkExposure(config, false, silentLogger)).toThrow(/LOOKOUT_TOKEN/);
      });

      it('takes LOOKOUT_TOKEN from the Secret lookout-auth (key token), required, and ships no Secret', () => {
        const token = c.env?.find((e) => e.name === 'LOOKOUT_TOKEN');
        expect(token?.value).toBeUndefined();
        expect(token?.valueFrom?.secretKeyRef).toEqual({ name: 'lookout-auth', key: 'token' });
        expect(objects.filter((o) => o.doc.kind === 'Secret')).toEqual([]);
        expect(() => podEnv({})).toThrow(/secret "lookout-auth" key token not found/);
      });

      it('with the Secret, lookout gets the token as auth.token and starts; the users file is on its volume', () => {
        const env = podEnv({ 'lookout-auth': { token: TOKEN } });
        expect(env.LOOKOUT_TOKEN).toBe(TOKEN);
        const withSecret = parseWithEnv(doc, 'ConfigMap lookout-config', env);
        expect(withSecret.auth.token).toBe(TOKEN);
        expect(withSecret.shard?.index).toBe(0);
        expect(() => checkExposure(withSecret, false, silentLogger)).not.toThrow();
        expect(withSecret.auth.usersFile).toBe('/data/users.db');
        expect(c.volumeMounts?.find((m) => m.mountPath === '/data')?.readOnly).not.toBe(true);
      });
    });

    it('gives every replica a distinct shard, and every camera to exactly one', () => {
      const replicas = sts.spec?.replicas ?? 1;
      expect(env(c, 'LOOKOUT_SHARD_COUNT')).toBe(String(replicas));
      expect(c.env?.find((e) => e.name === 'POD_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
      const shards = Array.from({ length: replicas }, (_, ordinal) =>
        shardFromEnv({ LOOKOUT_SHARD_COUNT: env(c, 'LOOKOUT_SHARD_COUNT'), POD_NAME: `${sts.metadata?.name ?? ''}-${ordinal}` }),
      );
      expect(shards.map((s) => s?.index)).toEqual(Array.from({ length: replicas }, (_, i) => i));
    });
  });
});
