import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './process.js';

/** One instruction of a Dockerfile, continuation lines joined. */
export interface Instruction {
  op: string;
  args: string;
}

export function dockerfileInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const joined = text.replace(/\\\n/g, ' ');
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    if (m) out.push({ op: m[1]!.toUpperCase(), args: m[2]!.replace(/\s+/g, ' ').trim() });
  }
  return out;
}

/** The final stage: what the image runs (the instructions after the last FROM). */
export function runtimeStage(): { instructions: Instruction[]; env: Record<string, string>; workdir: string } {
  const all = dockerfileInstructions(readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8'));
  const last = all.map((i) => i.op).lastIndexOf('FROM');
  const instructions = all.slice(last + 1);
  const env: Record<string, string> = {};
  for (const i of instructions.filter((x) => x.op === 'ENV')) {
    for (const m of i.args.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) env[m[1]!] = m[2]!;
  }
  const workdir = instructions.find((i) => i.op === 'WORKDIR')?.args ?? '/';
  return { instructions, env, workdir };
}

/** A RUN instruction's shell command, without BuildKit flags (--mount=…). */
export function runCommand(i: Instruction): string {
  return i.args.replace(/^(--[a-z]+=\S+\s+)+/, '');
}

/** The exec-form array of CMD or HEALTHCHECK … CMD. */
export function execForm(args: string): string[] {
  const json = args.slice(args.indexOf('['));
  return JSON.parse(json) as string[];
}

/** KEY=value lines of an env file; `commented` also returns the `# KEY=value` examples. */
export function envFile(path: string, commented = false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of readFileSync(join(ROOT, path), 'utf8').split('\n')) {
    const m = (commented ? /^#?\s*([A-Z][A-Z0-9_]*)=(.*)$/ : /^([A-Z][A-Z0-9_]*)=(.*)$/).exec(raw.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}
