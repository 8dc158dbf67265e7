import { createHash } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../kernel/clock.js';
import type { Database, Db } from '../kernel/storage/database.js';
import { needsWarden } from './pipeline.js';

export type JobOutcome = 'ok' | 'failed' | 'skipped';

export interface JobContext {
  readonly db: Db;
  /** The instance's clock when the run began (tests move it by hand). */
  readonly now: Date;
  /** Aborted when the scheduler stops: a run that loops over batches ends after the current one. */
  readonly signal: AbortSignal;
}

export interface Job {
  /** `<table or thing>.<verb>`, unique per app: the metric label and the log field. */
  readonly name: string;
  /** Time between the end of one run and the start of the next (runs of one job never overlap). */
  readonly everyMs: number;
  /** Delay before the first run after the app is ready; defaults to everyMs. */
  readonly firstAfterMs?: number;
  /**
   * When several instances share one PostgreSQL database, only one of them runs it at a time: the run
   * holds an advisory lock, and an instance that cannot take it skips that turn. For work that is
   * wasted or harmful when repeated (a scheduled key rotation, a large DELETE twice at once).
   */
  readonly singleRunner?: boolean;
  /** What the run did, for the log line (e.g. `{ deleted: 12 }`); nothing is logged when all are 0. */
  run(ctx: JobContext): Promise<Record<string, number> | void>;
}

export interface JobLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface JobMetrics {
  jobRuns: { inc(labels: { job: string; outcome: JobOutcome }): void };
  jobDuration: { observe(labels: { job: string }, seconds: number): void };
}

interface Entry {
  job: Job;
  timer?: NodeJS.Timeout;
  running?: Promise<JobOutcome>;
}

/** The pair of 32-bit keys of a job's advisory lock: "ward" and the name's hash (disjoint from the migration lock's one-key space). */
export function jobLockKey(name: string): [number, number] {
  return [0x77617264, createHash('sha256').update(name).digest().readInt32BE(0)];
}

/**
 * The background work of one app: each feature registers its jobs (name, interval, single-runner or
 * not) and the scheduler runs them on unref'd timers from `start()` until `stop()`. A run that throws
 * is logged (the logger's error serializer keeps SQL text and parameters out) and counted, and the job
 * runs again at its next turn. Counted in warden_job_runs_total{job,outcome} and timed in
 * warden_job_duration_seconds{job}.
 */
export class JobScheduler {
  private readonly entries = new Map<string, Entry>();
  private state: 'idle' | 'started' | 'stopped' = 'idle';
  private readonly stopping = new AbortController();

  constructor(
    private readonly deps: {
      database: Database;
      clock: Clock;
      metrics: JobMetrics;
      log: JobLog;
    },
  ) {}

  register(job: Job): void {
    if (this.entries.has(job.name)) throw new Error(`job ${job.name} is registered twice`);
    if (!(job.everyMs > 0)) throw new Error(`job ${job.name}: everyMs must be positive`);
    const entry: Entry = { job };
    this.entries.set(job.name, entry);
    if (this.state === 'started') this.schedule(entry, job.firstAfterMs ?? job.everyMs);
  }

  /** The registered jobs, in registration order (docs/jobs.md lists them). */
  list(): readonly Job[] {
    return [...this.entries.values()].map((e) => e.job);
  }

  start(): void {
    if (this.state !== 'idle') return;
    this.state = 'started';
    for (const entry of this.entries.values()) this.schedule(entry, entry.job.firstAfterMs ?? entry.job.everyMs);
  }

  /** No further runs; resolves when the runs under way have finished. */
  async stop(): Promise<void> {
    this.state = 'stopped';
    this.stopping.abort();
    const running: Promise<JobOutcome>[] = [];
    for (const entry of this.entries.values()) {
      clearTimeout(entry.timer);
      entry.timer = undefined;
      if (entry.running) running.push(entry.running);
    }
    await Promise.allSettled(running);
  }

  /** Run one job now (tests, operators); 'skipped' when it is running already or another instance holds its lock. */
  async runNow(name: string): Promise<JobOutcome> {
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`no job named ${name}`);
    return this.run(entry);
  }

  private schedule(entry: Entry, delayMs: number) {
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      void this.run(entry).finally(() => {
        if (this.state === 'started' && !entry.timer) this.schedule(entry, entry.job.everyMs);
      });
    }, delayMs);
    entry.timer.unref();
  }

  private run(entry: Entry): Promise<JobOutcome> {
    if (entry.running) {
      this.deps.metrics.jobRuns.inc({ job: entry.job.name, outcome: 'skipped' });
      return Promise.resolve('skipped');
    }
    const running = this.runOnce(entry.job).finally(() => {
      entry.running = undefined;
    });
    entry.running = running;
    return running;
  }

  private async runOnce(job: Job): Promise<JobOutcome> {
    const { database, clock, metrics, log } = this.deps;
    const db = database.db;
    const started = performance.now();
    let outcome: JobOutcome = 'ok';
    try {
      const work = () => job.run({ db, now: new Date(clock.now()), signal: this.stopping.signal });
      // PGlite is one process's own (its data dir is locked), so there is nobody to exclude.
      let result: Record<string, number> | void = undefined;
      if (job.singleRunner && database.exclusive) {
        const attempt = await database.exclusive(jobLockKey(job.name), work);
        if (!attempt.ran) outcome = 'skipped';
        else result = attempt.value;
      } else {
        result = await work();
      }
      if (result && Object.values(result).some((n) => n !== 0)) log.info({ job: job.name, ...result }, 'background job done');
    } catch (err) {
      outcome = 'failed';
      log.error({ job: job.name, err }, 'background job failed; it runs again at its next turn');
    }
    metrics.jobRuns.inc({ job: job.name, outcome });
    if (outcome !== 'skipped') metrics.jobDuration.observe({ job: job.name }, (performance.now() - started) / 1000);
    return outcome;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Background jobs of this app: features register theirs (docs/jobs.md); they run from ready to close. */
    jobs: JobScheduler;
  }
}

/** `app.jobs`, one scheduler per app: started when the app is ready, stopped before it closes. */
export const jobsPlugin = fp(
  async (app: FastifyInstance) => {
    const w = app.warden;
    const jobs = new JobScheduler({ database: w.database, clock: w.clock, metrics: w.metrics, log: app.log });
    app.decorate('jobs', jobs);
    app.addHook('onReady', async () => jobs.start());
    // preClose: before any onClose hook (the services, the database) goes, the runs under way finish.
    app.addHook('preClose', async () => jobs.stop());
  },
  { name: 'warden-jobs', fastify: '5.x', decorators: needsWarden() },
);
