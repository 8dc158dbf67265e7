// A second process for test/storage/data-dir-lock.test.ts. Usage:
//   hold-data-dir.ts open <dir>            open the embedded database, print "held", hold until killed
//   hold-data-dir.ts lock <dir> <startAt>  at the given time (ms), take the data dir's lock; print "got" and hold, or "refused"
import { DataDirInUseError, lockDataDir, openDatabase } from '../../src/kernel/storage/database.js';

const [mode, dir, startAt] = process.argv.slice(2);
if (mode === 'open') {
  await openDatabase({ dataDir: dir });
  process.stdout.write('held\n');
} else {
  await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
  try {
    await lockDataDir(dir!);
    process.stdout.write('got\n');
  } catch (e) {
    if (!(e instanceof DataDirInUseError)) throw e;
    process.stdout.write('refused\n');
    process.exit(0);
  }
}
// Held until the test kills this process.
setInterval(() => {}, 60_000);
