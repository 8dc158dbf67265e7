import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';

/**
 * The offline breached-password list (BREACHED_PASSWORDS_FILE): one text file of full SHA-1 hashes,
 * upper-case hex, `HASH:COUNT` a line, sorted (the single-file form of the Pwned Passwords
 * downloader). It is tens of gigabytes, so it is never loaded: a binary search over byte offsets reads
 * one small window per step (about 35 reads for a billion lines).
 */
const WINDOW = 256;
const HASH_LEN = 40;

export function sha1Upper(password: string): string {
  return createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase();
}

/** The first complete line starting at or after `offset`, with the offset it starts at; undefined past the end. */
async function lineAt(fh: FileHandle, offset: number, size: number): Promise<{ start: number; hash: string } | undefined> {
  let start = offset;
  if (offset > 0) {
    // Skip the (possibly partial) line `offset` falls in: find the next newline.
    let pos = offset - 1;
    for (;;) {
      if (pos >= size) return undefined;
      const buf = Buffer.alloc(WINDOW);
      const { bytesRead } = await fh.read(buf, 0, WINDOW, pos);
      if (bytesRead === 0) return undefined;
      const nl = buf.subarray(0, bytesRead).indexOf(0x0a);
      if (nl >= 0) {
        start = pos + nl + 1;
        break;
      }
      pos += bytesRead;
    }
  }
  if (start >= size) return undefined;
  const buf = Buffer.alloc(HASH_LEN);
  const { bytesRead } = await fh.read(buf, 0, HASH_LEN, start);
  return { start, hash: buf.subarray(0, bytesRead).toString('latin1').toUpperCase() };
}

/** Whether the SHA-1 of `password` is in the sorted file at `path`. */
export async function isBreached(path: string, password: string): Promise<boolean> {
  const target = sha1Upper(password);
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    // Invariant: every line starting before `lo` sorts below the target; the first line starting at or
    // after `hi`, if any, sorts at or above it.
    let lo = 0;
    let hi = size;
    while (hi - lo > WINDOW) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const line = await lineAt(fh, mid, size);
      if (!line || line.start >= hi || line.hash >= target) hi = mid;
      else lo = line.start + 1;
    }
    // Scan from `lo`: the first line at or after `hi` already sorts at or past the target, so this ends within a window.
    let line = await lineAt(fh, lo, size);
    while (line) {
      if (line.hash === target) return true;
      if (line.hash > target) return false;
      line = await lineAt(fh, line.start + 1, size);
    }
    return false;
  } finally {
    await fh.close();
  }
}
