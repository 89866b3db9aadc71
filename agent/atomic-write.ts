import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces `path` with `data` so a reader or a crash never sees half a file: a hidden temporary file beside it (a
 * random name, created exclusively: concurrent writes in one directory, often in the same millisecond, never share
 * one), flushed to disk and given `mode` (umask does not apply), then renamed over the target.
 */
export async function writeFileAtomic(path: string, data: string | Buffer, mode: number): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(8).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', mode);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
      await handle.chmod(mode);
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
