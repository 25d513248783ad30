// A cross-process lock on a file (O_EXCL create, holder pid inside, stale locks of dead holders taken over), so two
// `gsg build`s or test workers never build the same images at once. Re-exports the pid liveness check it relies on.
import { open, readFile, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { pidAlive } from '../../lib/process.js';

export { pidAlive };

/** Runs `fn` holding the lock file; waits (polling) while another live process holds it. */
export async function withFileLock<T>(file: string, fn: () => Promise<T>, opts: { pollMs?: number; onWait?: (holder: number) => void } = {}): Promise<T> {
  let announced = false;
  for (;;) {
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (holder && !pidAlive(holder)) {
        await unlink(file).catch(() => {});
        continue;
      }
      if (!announced && holder) opts.onWait?.(holder);
      announced = true;
      await sleep(opts.pollMs ?? 250);
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(file).catch(() => {});
  }
}
