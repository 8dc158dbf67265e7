import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/app/config.js';
import { SettingsSchema } from '../../src/app/settings.js';
import { ConfigError } from '../../src/kernel/config/load.js';
import { dockerfileInstructions, envFile, execForm, runtimeStage } from '../support/deploy-files.js';
import { ROOT } from '../support/process.js';

const SETTINGS = new Set(Object.keys(SettingsSchema.properties));
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

/** The top-level directories the code reads beside itself at run time (import.meta.url paths). */
function runtimeDirectories(): Set<string> {
  const dirs = new Set<string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) {
        for (const m of readFileSync(p, 'utf8').matchAll(/new URL\('\.\.\/\.\.\/([\w.-]+)/g)) dirs.add(m[1]!);
      }
    }
  };
  walk(join(ROOT, 'src'));
  return dirs;
}

/**
 * deploy/ stays true to the code: the settings it names exist, the example's production settings pass
 * the production checks, the image copies every file the code reads at run time, and the systemd unit,
 * the compose file and the Dockerfile agree on the command, the data directory and the health probe.
 */
describe('deploy files', () => {
  const stage = runtimeStage();

  it('warden.env.example names only real settings, and passes the production checks once ENCRYPTION_KEY is filled in', () => {
    const all = envFile('deploy/warden.env.example', true);
    for (const key of Object.keys(all)) assert.ok(SETTINGS.has(key), `deploy/warden.env.example: ${key} is not a setting (src/app/settings.ts)`);
    const active = envFile('deploy/warden.env.example');
    assert.equal(active.NODE_ENV, 'production');
    // As shipped, the blank to fill in is refused, and named.
    assert.throws(
      () => parseConfig(active),
      (e: unknown) => e instanceof ConfigError && e.problems.map((p) => p.variable).join() === 'ENCRYPTION_KEY',
    );
    const config = parseConfig({ ...active, ENCRYPTION_KEY: randomBytes(32).toString('base64') });
    assert.equal(config.issuer, active.ISSUER);
  });

  it('the image: settings are real, it runs as a non-root user with DATA_DIR a volume, copies what the code reads, and has a health check', () => {
    for (const key of Object.keys(stage.env)) assert.ok(SETTINGS.has(key), `Dockerfile ENV ${key} is not a setting`);
    assert.equal(stage.env.NODE_ENV, 'production');
    const one = (op: string) => stage.instructions.find((i) => i.op === op)?.args;
    assert.ok(one('USER') && one('USER') !== 'root' && one('USER') !== '0', 'runs as a non-root user');
    assert.ok(one('VOLUME')?.includes(stage.env.DATA_DIR!), 'DATA_DIR is a volume');
    assert.equal(one('EXPOSE'), stage.env.PORT);
    assert.match(one('HEALTHCHECK') ?? '', /\/healthz/);
    assert.deepEqual(execForm(one('CMD')!), ['node', 'dist/cli/main.js', 'serve']);
    const copied = stage.instructions
      .filter((i) => i.op === 'COPY')
      .flatMap((i) => i.args.split(' ').slice(1, -1))
      .map((p) => p.replace(/^\/app\//, ''));
    for (const dir of runtimeDirectories()) {
      if (dir === 'package.json') continue;
      assert.ok(copied.includes(dir), `the code reads ${dir}/ at run time: the image must copy it`);
    }
    // `npm pack` ships the same built output.
    const files = (JSON.parse(read('package.json')) as { files: string[] }).files;
    for (const dir of ['dist', ...runtimeDirectories()].filter((d) => d !== 'package.json')) assert.ok(files.includes(dir), `package.json files lists ${dir}`);

    const build = dockerfileInstructions(read('deploy/Dockerfile'));
    assert.ok(build.some((i) => i.op === 'RUN' && /\bnpm ci --no-audit/.test(i.args)), 'the build stage installs everything (prepare builds dist/)');
    const ignored = read('.dockerignore').split('\n');
    for (const p of ['node_modules', 'data', '.env', 'dist', '.git']) assert.ok(ignored.includes(p), `.dockerignore keeps ${p} out of the image`);
  });

  it('docker-compose.yml: Warden on PostgreSQL and Redis, healthchecked, with real settings', () => {
    const compose = read('deploy/docker-compose.yml');
    const warden = compose.slice(compose.search(/^ {2}warden:/m), compose.search(/^ {2}postgres:/m));
    const environment = warden.slice(warden.indexOf('environment:'), warden.indexOf('ports:'));
    const keys = [...environment.matchAll(/^ {6}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]!);
    assert.ok(keys.includes('DATABASE_URL') && keys.includes('REDIS_URL'));
    for (const key of keys) assert.ok(SETTINGS.has(key), `compose sets ${key}, which is not a setting`);
    assert.match(warden, /env_file: warden\.env/);
    assert.match(warden, /dockerfile: deploy\/Dockerfile/);
    assert.match(warden, /- warden-data:\/data/);
    assert.match(warden, /DATA_DIR: \/data/);
    assert.match(warden, /depends_on:\n\s+postgres:\n\s+condition: service_healthy\n\s+redis:\n\s+condition: service_healthy/);
    assert.equal(compose.match(/healthcheck:/g)?.length, 2, 'postgres and redis have health checks (warden has the image\'s)');
  });

  it('warden.service: a dedicated user, hardened, DATA_DIR its only writable path, the image\'s command', () => {
    const unit = read('deploy/warden.service');
    const values = (key: string) => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!);
    const user = values('User')[0];
    assert.ok(user && user !== 'root', 'a dedicated user');
    for (const [k, v] of [['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['PrivateTmp', 'yes']]) {
      assert.deepEqual(values(k!), [v], `${k}=${v}`);
    }
    const env = Object.fromEntries(values('Environment').map((e) => e.split('=') as [string, string]));
    for (const key of Object.keys(env)) assert.ok(SETTINGS.has(key), `the unit sets ${key}, which is not a setting`);
    assert.equal(env.NODE_ENV, 'production');
    assert.deepEqual(values('ReadWritePaths'), [env.DATA_DIR]);
    assert.equal(values('EnvironmentFile').length, 1);
    const [node, ...args] = values('ExecStart')[0]!.split(' ');
    assert.match(node!, /\/node$/);
    const cmd = execForm(stage.instructions.find((i) => i.op === 'CMD')!.args);
    assert.deepEqual(args, cmd.slice(1).map((a, i) => (i === 0 ? `${values('WorkingDirectory')[0]}/${a}` : a)));
  });

  it('warden.service passes systemd-analyze verify', (t) => {
    const probe = spawnSync('systemd-analyze', ['--version']);
    if (probe.error) return t.skip('systemd-analyze is not installed');
    const r = spawnSync('systemd-analyze', ['verify', join(ROOT, 'deploy/warden.service')], { encoding: 'utf8' });
    // It cannot know the warden user or /opt/warden here; anything else it reports is a mistake in the unit.
    const complaints = `${r.stdout}${r.stderr}`
      .split('\n')
      .filter((l) => l.trim() && !/not executable|No such file|warden\.service: Failed to|user.*warden/i.test(l));
    assert.deepEqual(complaints, []);
  });
});
