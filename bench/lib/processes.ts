import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = new URL('../..', import.meta.url).pathname;

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Running {
  child: ChildProcess;
  /** Milliseconds from spawn until the ready URL answered 200. */
  readyMs: number;
  stderr(): string;
  /** Resident memory of the serving node process (the npm wrapper excluded), in MB. */
  rssMb(): number;
  stop(): Promise<void>;
}

/** Start a process and wait until readyUrl answers 200 (polling every 10 ms). */
export async function startProcess(
  command: string,
  args: string[],
  opts: { env?: Record<string, string>; readyUrl: string; timeoutMs?: number; stdout?: 'ignore' | 'pipe' },
): Promise<Running> {
  const started = performance.now();
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', opts.stdout ?? 'ignore', 'pipe'],
    // Its own process group: npm's children go down with it.
    detached: true,
  });
  let err = '';
  child.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = started + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (exited) throw new Error(`${command} ${args.join(' ')} exited before it was ready:\n${err}`);
    if (performance.now() > deadline) {
      killGroup(child, 'SIGKILL');
      throw new Error(`${command} ${args.join(' ')} not ready after ${opts.timeoutMs ?? 60_000} ms:\n${err}`);
    }
    try {
      const res = await fetch(opts.readyUrl, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    await sleep(10);
  }
  const readyMs = performance.now() - started;
  return {
    child,
    readyMs,
    stderr: () => err,
    rssMb: () => rssOfNode(child.pid!),
    async stop() {
      if (exited) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 15_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals) {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

/** Start a script that prints {"port"} on its first stdout line. */
export async function startPortPrinter(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve((JSON.parse(line!) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}): ${err}`)));
  });
  return {
    port,
    child,
    rssMb: () => rssOfNode(child.pid!),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

/** Run a node script to completion and parse the JSON it prints last. */
export async function runJson<T>(args: string[], env: Record<string, string> = {}): Promise<T> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  const last = out.trim().split('\n').pop();
  if (code !== 0 || !last) throw new Error(`${args.join(' ')} failed (${code}): ${err}`);
  return JSON.parse(last) as T;
}

function children(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/** The RSS of pid, or of the node process below it when pid is a wrapper (npm, sh). */
function rssOfNode(pid: number): number {
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${p}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (/(^|\/)node\0/.test(cmdline) && !cmdline.includes('npm-cli') && !/\0(start|run)\0/.test(cmdline)) {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : NaN;
    }
    queue.push(...children(p));
  }
  return NaN;
}
