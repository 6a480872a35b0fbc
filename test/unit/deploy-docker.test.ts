// The Docker deployment files are code too: the compose files and the
// Dockerfile get the structural checks that need no Docker engine, and
// lookout's configs in them are parsed by lookout's own parseConfig, so a
// wrong key fails here and not at start-up. Each must start with
// authentication: its config listens on 0.0.0.0, so lookout's exposure rule
// (src/auth/exposure.ts) is run on the config and the environment the
// container gets. deploy-manifests.test.ts has the Kubernetes manifests.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { need } from '../../src/auth/access-policy.js';
import { checkExposure } from '../../src/auth/exposure.js';
import { demoConfig, loadConfig } from '../../src/config/load.js';
import { parseConfig } from '../../src/config/parse.js';
import { parseTargets } from '../../src/tfserving/channels.js';
import { silentLogger } from '../../src/util/logger.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** A token as an operator would make one (openssl rand -hex 24). */
const TOKEN = 'f3a9c2e81b7d4056a1c9e2b3d4f50617a8b9c0d1e2f30415';

/**
 * Compose's interpolation of a value (the compose specification's forms:
 * $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}),
 * with `env` as the shell plus .env. A missing required variable throws the
 * error text, as `docker compose` stops with it.
 */
function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/\$\$|\$([A-Za-z_][A-Za-z0-9_]*)|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}$]*))?\}|\$/g, (match, bare?: string, name?: string, colon?: string, op?: string, arg?: string) => {
    if (match === '$$') return '$';
    if (bare !== undefined) return env[bare] ?? '';
    if (name === undefined) throw new Error(`invalid interpolation in ${JSON.stringify(value)}`);
    const v = env[name];
    const missing = v === undefined || (colon === ':' && v === '');
    if (op === '-') return missing ? (arg ?? '') : (v ?? '');
    if (op === '?') {
      if (missing) throw new Error(`required variable ${name} is missing a value: ${arg ?? ''}`);
      return v ?? '';
    }
    return v ?? '';
  });
}

it('interpolate() follows compose on the forms the compose files use', () => {
  expect(interpolate('${A:?need A}', { A: 'x' })).toBe('x');
  expect(() => interpolate('${A:?need A}', {})).toThrow('required variable A is missing a value: need A');
  expect(() => interpolate('${A:?need A}', { A: '' })).toThrow(/need A/);
  expect(interpolate('${A?need A}', { A: '' })).toBe('');
  expect(interpolate('${A:-d} $B $$C', { B: 'b' })).toBe('d b $C');
  expect(() => interpolate('${A:?a $(cmd)}', {})).toThrow(/invalid interpolation/);
});

describe('docker compose', () => {
  interface ComposeService {
    image?: string;
    build?: unknown;
    command?: string[];
    environment?: Record<string, string>;
    volumes?: string[];
    ports?: string[];
    depends_on?: string[];
    deploy?: { resources?: { reservations?: { devices?: { driver?: string; count?: number | string; capabilities?: string[] }[] } } };
    env_file?: unknown;
  }
  const load = (f: string) => parseYaml(readFileSync(path.join(root, f), 'utf8')) as { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };
  const compose = load('docker-compose.yml');
  const { lookout, tfserving } = compose.services;

  it('runs lookout, TF Serving (CPU), the model mounted in its versioned layout, and an MQTT broker', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['lookout', 'mosquitto', 'tfserving']);
    const { mosquitto } = compose.services;
    expect(mosquitto.ports).toEqual(['1883:1883']);
    const conf = mosquitto.volumes?.find((v) => v.endsWith(':/mosquitto/config/mosquitto.conf:ro'))?.split(':')[0];
    expect(readFileSync(path.join(root, conf ?? 'missing'), 'utf8')).toMatch(/^listener 1883 0\.0\.0\.0$/m);
    expect(tfserving.image).toBe('tensorflow/serving:latest');
    expect(tfserving.environment?.MODEL_NAME).toBe('detector');
    expect(tfserving.volumes).toContain('./models/detector:/models/detector:ro');
    expect(tfserving.ports).toEqual(['8500:8500', '8501:8501']);
    expect(lookout.build).toBe('.');
    expect(lookout.ports).toEqual(['8080:8080']);
    expect(lookout.depends_on).toEqual(['tfserving', 'mosquitto']);
  });

  it("gives lookout a config its parseConfig accepts, pointing at the tfserving service, with the log in a volume", () => {
    expect(lookout.command).toEqual(['serve', '--config', '/config/lookout.yaml']);
    const configMount = lookout.volumes?.find((v) => v.split(':')[1] === '/config');
    expect(configMount).toBe('./deploy/compose:/config:ro');
    const file = path.join(root, 'deploy/compose/lookout.yaml');
    const config = parseConfig(parseYaml(readFileSync(file, 'utf8')) as unknown, file);
    expect(config.modelServer.address).toEqual(['tfserving:8500']);
    expect(parseTargets(config.modelServer.address ?? [])).toEqual(['tfserving:8500']);
    expect(config.modelServer.modelName).toBe(tfserving.environment?.MODEL_NAME);
    expect(config.cameras.map((cam) => cam.url)).toContain('rtsp://user:password@192.0.2.10:554/stream1');
    expect(config.store.path).toBe('/data/lookout.db');
    expect(config.notify.mqtt?.url).toBe('mqtt://mosquitto:1883');
    const dataVolume = lookout.volumes?.find((v) => v.split(':')[1] === '/data')?.split(':')[0];
    expect(Object.keys(compose.volumes ?? {})).toContain(dataVolume);
  });

  describe('starts lookout with authentication only', () => {
    const file = path.join(root, 'deploy/compose/lookout.yaml');
    /** lookout's environment as `docker compose up` gives it, with `shell` as the shell and .env. */
    const containerEnv = (shell: Record<string, string | undefined>): Record<string, string> =>
      Object.fromEntries(Object.entries(lookout.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), shell)]));

    it('its config listens on every interface, so lookout refuses to start without authentication', () => {
      const config = loadConfig(file, {}, { shard: false });
      expect(config.http.host).toBe('0.0.0.0');
      expect(config.auth.enabled).toBeUndefined();
      expect(() => checkExposure(config, false, silentLogger)).toThrow(/LOOKOUT_TOKEN/);
    });

    it('requires LOOKOUT_TOKEN from the shell or .env (${LOOKOUT_TOKEN:?…}): compose stops with a message saying how to set it', () => {
      expect(lookout.env_file).toBeUndefined();
      expect(lookout.environment?.LOOKOUT_TOKEN).toMatch(/^\$\{LOOKOUT_TOKEN:\?[^}$]+\}$/);
      for (const shell of [{}, { LOOKOUT_TOKEN: '' }]) {
        expect(() => containerEnv(shell)).toThrow(/^required variable LOOKOUT_TOKEN is missing a value: set LOOKOUT_TOKEN to a secret of at least 16 characters .*openssl rand -hex 24.*\.env/);
      }
      // Nothing else in lookout's environment is a variable compose would stop on, or a literal secret.
      expect(Object.keys(lookout.environment ?? {})).toEqual(['LOOKOUT_TOKEN']);
    });

    it("with the token set, lookout gets it as auth.token and starts", () => {
      const env = containerEnv({ LOOKOUT_TOKEN: TOKEN });
      expect(env).toEqual({ LOOKOUT_TOKEN: TOKEN });
      const config = loadConfig(file, env, { shard: false });
      expect(config.auth.token).toBe(TOKEN);
      expect(() => checkExposure(config, false, silentLogger)).not.toThrow();
      // A token lookout would refuse (under 16 characters) names the variable.
      expect(() => loadConfig(file, containerEnv({ LOOKOUT_TOKEN: 'short' }), { shard: false })).toThrow(/environment LOOKOUT_TOKEN.*at least 16/);
    });

    it('keeps the users file on the data volume, beside the log, and .env out of git', () => {
      const config = loadConfig(file, {}, { shard: false });
      expect(config.auth.usersFile).toBe('/data/users.db');
      expect(lookout.volumes?.find((v) => v.split(':')[1] === '/data')).toBe('lookout-data:/data');
      expect(readFileSync(path.join(root, '.gitignore'), 'utf8').split('\n')).toContain('.env');
    });
  });

  it('has a GPU variant: the GPU image on an NVIDIA device', () => {
    const gpu = load('docker-compose.gpu.yml');
    expect(Object.keys(gpu.services)).toEqual(['tfserving']);
    expect(gpu.services.tfserving.image).toBe('tensorflow/serving:latest-gpu');
    const device = gpu.services.tfserving.deploy?.resources?.reservations?.devices?.[0];
    expect(device?.driver).toBe('nvidia');
    expect(device?.capabilities).toContain('gpu');
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  // Instructions with their continuation lines joined, comments dropped.
  const instructions = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: { name: string | undefined; lines: string[] }[] = [];
  for (const line of instructions) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ name: from[2], lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  const [build, runtime] = stages;
  /**
   * Node's flags wherever lookout starts. A larger first old-generation limit
   * spares the major collections that short-lived frame buffers otherwise
   * bring every ~100 ms (README, "Node's heap").
   */
  const NODE_FLAGS = ['--initial-old-space-size=128'];
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { files: string[]; bin: Record<string, string>; scripts: Record<string, string> };
  const tsconfig = JSON.parse(readFileSync(path.join(root, 'tsconfig.json'), 'utf8')) as { compilerOptions: { outDir: string; rootDir: string }; include: string[] };

  interface Copy {
    from: string | undefined;
    sources: string[];
    dest: string;
  }
  const copies = (lines: string[]): Copy[] =>
    lines
      .filter((l) => /^COPY\s/i.test(l))
      .map((l) => {
        const words = l.split(/\s+/).slice(1);
        const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
        const args = words.filter((w) => !w.startsWith('--'));
        return { from, sources: args.slice(0, -1), dest: args[args.length - 1] };
      });

  /** Whether .dockerignore keeps a path out of the build context (its last matching rule wins). */
  function ignored(rel: string): boolean {
    const rules = readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    let out = false;
    for (const rule of rules) {
      const negate = rule.startsWith('!');
      const pattern = negate ? rule.slice(1) : rule;
      if (pattern.startsWith('**/')) continue; // file-name patterns such as **/*.log
      const matches = pattern === '*' || rel === pattern || rel.startsWith(`${pattern}/`);
      if (matches) out = !negate;
    }
    return out;
  }

  it('has a build stage and a runtime stage on node:20-bookworm-slim', () => {
    expect(instructions.filter((l) => /^FROM\s/i.test(l))).toEqual(['FROM node:20-bookworm-slim AS build', 'FROM node:20-bookworm-slim']);
    expect(pkg.scripts.build).toBe('tsc -p tsconfig.json');
    const runs = build.lines.filter((l) => /^RUN\s/i.test(l)).join('\n');
    for (const step of ['python3 make g++', 'npm ci', 'npm rebuild', 'npm run build', 'npm prune --omit=dev']) expect(runs).toContain(step);
    const runtimeRuns = runtime.lines.filter((l) => /^RUN\s/i.test(l)).join('\n');
    expect(runtimeRuns).toMatch(/apt-get install .*\bffmpeg\b/);
  });

  it('copies only what exists in the repository, is not excluded by .dockerignore, or the build stage makes', () => {
    for (const copy of copies(build.lines).concat(copies(runtime.lines))) {
      for (const source of copy.sources) {
        if (copy.from === undefined) {
          expect(existsSync(path.join(root, source)), `COPY ${source}: not in the repository`).toBe(true);
          expect(ignored(source), `COPY ${source}: excluded by .dockerignore`).toBe(false);
        } else {
          expect(copy.from).toBe(build.name);
          // The build stage's WORKDIR is /app: package.json is copied in, node_modules comes from npm ci, dist/src from tsc.
          expect(['/app/package.json', '/app/node_modules', '/app/dist/src']).toContain(source);
        }
      }
    }
    // tsc writes src/** to dist/src/**.
    expect(tsconfig.compilerOptions.outDir).toBe('dist');
    expect(tsconfig.compilerOptions.rootDir).toBe('.');
    expect(tsconfig.include).toContain('src/**/*.ts');
    const buildSources = copies(build.lines).filter((c) => !c.from).flatMap((c) => c.sources);
    for (const needed of ['package.json', 'package-lock.json', 'tsconfig.json', 'src', ...tsconfig.include.map((g) => g.split('/')[0])]) expect(buildSources).toContain(needed);
  });

  it('starts node with the same heap flag everywhere lookout is launched: the bin, npm start, the image', () => {
    // The bin's shebang is what `npx lookout` runs.
    expect(readFileSync(path.join(root, 'src/cli.ts'), 'utf8').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
    expect(pkg.scripts.start).toBe(`node ${NODE_FLAGS.join(' ')} dist/src/cli.js serve`);
  });

  it("puts the package's files in the runtime image and runs its bin", () => {
    const runtimeCopies = copies(runtime.lines);
    const copied = runtimeCopies.flatMap((c) => c.sources.map((s) => s.replace(/^\/app\//, '')));
    for (const f of pkg.files) expect(copied, `package.json files: ${f}`).toContain(f);
    expect(pkg.bin.lookout).toBe('dist/src/cli.js');
    expect(existsSync(path.join(root, 'src/cli.ts'))).toBe(true);
    const entrypoint = JSON.parse(runtime.lines.find((l) => l.startsWith('ENTRYPOINT'))?.slice('ENTRYPOINT'.length) ?? '[]') as string[];
    expect(entrypoint.slice(-3)).toEqual(['node', ...NODE_FLAGS, 'dist/src/cli.js']);
    const cmd = JSON.parse(runtime.lines.find((l) => l.startsWith('CMD'))?.slice('CMD'.length) ?? '[]') as string[];
    expect(cmd).toEqual(['serve', '--config', '/config/lookout.yaml']);
    // The default config the CMD names is in the image and parses.
    const defaultConfig = runtimeCopies.find((c) => c.dest === '/config/lookout.yaml');
    expect(defaultConfig?.sources).toEqual(['deploy/docker/lookout.yaml']);
    const file = path.join(root, 'deploy/docker/lookout.yaml');
    expect(parseConfig(parseYaml(readFileSync(file, 'utf8')) as unknown, file).store.path).toBe('/data/lookout.db');
  });

  it('runs as a non-root user with /data as a volume, port 8080 and a /healthz health check', () => {
    const user = runtime.lines.find((l) => l.startsWith('USER'));
    expect(user).toBeDefined();
    expect(user).not.toMatch(/\b(root|0)\b/);
    expect(runtime.lines).toContain('VOLUME ["/data"]');
    expect(runtime.lines.find((l) => l.startsWith('EXPOSE'))).toMatch(/\b8080\b/);
    expect(runtime.lines.find((l) => l.startsWith('HEALTHCHECK'))).toMatch(/fetch\('http:\/\/127\.0\.0\.1:8080\/healthz'\)/);
    expect(statSync(path.join(root, '.dockerignore')).isFile()).toBe(true);
    for (const kept of ['node_modules', 'dist', 'data', 'test-output', '.git', 'models', '.env']) expect(ignored(kept), kept).toBe(true);
    // The health check needs no login: /healthz is open.
    const probed = /fetch\('http:\/\/127\.0\.0\.1:\d+(\/[^']*)'\)/.exec(runtime.lines.find((l) => l.startsWith('HEALTHCHECK')) ?? '')?.[1];
    expect(probed).toBe('/healthz');
    expect(need('GET', probed ?? '')).toBe('open');
  });

  describe('starts with authentication only', () => {
    const file = path.join(root, 'deploy/docker/lookout.yaml');

    it("its default config listens on 0.0.0.0, so without a token or a user lookout refuses to start", () => {
      const config = loadConfig(file, {}, { shard: false });
      expect(config.http.host).toBe('0.0.0.0');
      expect(config.auth.enabled).toBeUndefined();
      expect(config.auth.token).toBeUndefined();
      expect(() => checkExposure(config, false, silentLogger)).toThrow(/auth\.token \(or LOOKOUT_TOKEN\)/);
    });

    it('starts with -e LOOKOUT_TOKEN, or with a user in /data/users.db', () => {
      const withToken = loadConfig(file, { LOOKOUT_TOKEN: TOKEN }, { shard: false });
      expect(withToken.auth.token).toBe(TOKEN);
      expect(() => checkExposure(withToken, false, silentLogger)).not.toThrow();
      const config = loadConfig(file, {}, { shard: false });
      expect(config.auth.usersFile).toBe('/data/users.db');
      expect(() => checkExposure(config, true, silentLogger)).not.toThrow();
    });

    it('`docker run … lookout user add` (no --config) finds the same /data/users.db: data/ in WORKDIR /app links to /data', () => {
      // The entrypoint runs the CLI; `user` without --config takes the default
      // config, whose users file is data/users.db in the working directory.
      expect(path.relative(process.cwd(), demoConfig({}, { shard: false }).auth.usersFile)).toBe(path.join('data', 'users.db'));
      const workdirs = runtime.lines.filter((l) => l.startsWith('WORKDIR'));
      expect(workdirs.at(-1)).toBe('WORKDIR /app');
      expect(runtime.lines.filter((l) => l.startsWith('RUN')).join('\n')).toMatch(/ln -s \/data \/app\/data/);
      expect(runtime.lines).toContain('VOLUME ["/data"]');
    });

    it('says how in its comments: -e LOOKOUT_TOKEN, user add on the volume, trustedProxy', () => {
      const comments = text.split('\n').filter((l) => l.startsWith('#')).join('\n');
      expect(comments).toMatch(/docker run .*-e LOOKOUT_TOKEN .*lookout/);
      expect(comments).toContain('docker run --rm -it -v lookout-data:/data lookout user add alice --role admin');
      expect(comments).toContain('auth.trustedProxy');
    });
  });
});
