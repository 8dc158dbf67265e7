import pino from 'pino';

/** What pino writes to: `write` per line; `lastLevel` is set before each write (see `needsMetadataGsym`). */
export interface LogDestination {
  write(line: string): boolean;
  /** Everything buffered, written now (synchronously when `sync`: at exit). */
  flush(sync?: boolean): void;
  lastLevel: number;
}

/** Where the batches go: pino's own SonicBoom (EAGAIN, back-pressure and broken pipes handled there). */
export interface LineSink {
  write(chunk: string): boolean;
  flushSync(): void;
}

export interface BatchOptions {
  /** Info lines wait at most this long; 0 writes every line at once. */
  flushMs: number;
  /** A batch this large is written at once. */
  maxBytes?: number;
}

const WARN = 40;

/**
 * Log lines gathered and written in batches. Every request logs a line, and a write per line (a call
 * into SonicBoom and a write or thread-pool hop each time) is a share of a protected route's CPU worth
 * saving (docs/benchmarks.md); batched, it is one write per `flushMs`.
 *
 * What a batch may cost: info and debug lines are held for at most `flushMs` (100 ms by default), so a
 * kill -9 can lose that much of the request log (never a security record: those are audit rows in the
 * database, written before the answer). A warn, error or fatal line is written at once, with everything
 * before it, and what is held is written synchronously when the process exits.
 */
export function batchedDestination(sink: LineSink, opts: BatchOptions): LogDestination {
  const maxBytes = opts.maxBytes ?? 65536;
  let lines: string[] = [];
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const dest: LogDestination & { [k: symbol]: unknown } = {
    // pino sets lastLevel before each write to a stream that asks for it.
    [pino.symbols.needsMetadataGsym]: true,
    lastLevel: 0,
    write(line: string) {
      if (opts.flushMs <= 0) return sink.write(line);
      lines.push(line);
      bytes += line.length;
      if (dest.lastLevel >= WARN || bytes >= maxBytes) dest.flush();
      else timer ??= setTimeout(() => dest.flush(), opts.flushMs).unref();
      return true;
    },
    flush(sync = false) {
      if (timer) {
        clearTimeout(timer);
        timer = undefined;
      }
      if (lines.length) {
        const chunk = lines.length === 1 ? lines[0]! : lines.join('');
        lines = [];
        bytes = 0;
        sink.write(chunk);
      }
      if (sync) sink.flushSync();
    },
  };
  return dest;
}

/** Standard output, batched, flushed synchronously when the process exits (also after a crash). */
export function stdoutDestination(flushMs: number): LogDestination {
  const sink = pino.destination({ dest: 1, sync: false });
  const dest = batchedDestination(sink, { flushMs });
  process.once('exit', () => {
    try {
      dest.flush(true);
    } catch {
      // Standard output is gone (EPIPE): nothing left to tell.
    }
  });
  return dest;
}
