import { loadConfig } from '../app/config.js';
import { createWarden, type Warden } from '../app/warden.js';

/** Open Warden's services for a command, run it, close them. */
export async function withWarden<T>(fn: (w: Warden) => Promise<T>): Promise<T> {
  const w = await createWarden(loadConfig(), { migrate: true });
  try {
    return await fn(w);
  } finally {
    await w.close();
  }
}

export const cliContext = { ip: 'cli', userAgent: 'warden-cli', actorId: 'cli' };
