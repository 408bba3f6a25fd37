/**
 * The development stack's data folder (`.dev-data/`, or `npm run dev -- --data-dir`) holds the
 * development API key (`dev-stack.json`), the bridge's config, the embedded Postgres and
 * wrangler's local queues and Durable Objects: readable by its owner only. `npm run dev` sets the
 * umask to 077 before it creates anything, so every file it and its children (wrangler, workerd,
 * PGlite, the bridge) create is 0600 and every folder 0700, and tightens what an older version
 * left readable by others.
 */
import { chmod, lstat, mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

/** Files 0600, folders 0700: nothing for group or others. */
export const PRIVATE_UMASK = 0o077;

/** Drops group and other permissions of `target` and, for a folder, of everything below it. */
export async function tightenModes(target: string): Promise<void> {
  const stats = await lstat(target);
  if (stats.isSymbolicLink()) return;
  const mode = stats.mode & 0o777;
  if ((mode & PRIVATE_UMASK) !== 0) await chmod(target, mode & ~PRIVATE_UMASK);
  if (!stats.isDirectory()) return;
  for (const entry of await readdir(target)) await tightenModes(path.join(target, entry));
}

/**
 * Sets the process umask to 077 (children inherit it), creates `dir` (0700) and tightens what is
 * already in it.
 */
export async function preparePrivateDataDir(dir: string): Promise<void> {
  process.umask(PRIVATE_UMASK);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await tightenModes(dir);
}

/**
 * Writes `text` to `file` readable by its owner only, whatever the file's mode was before, and
 * atomically: the text goes to a temporary file beside it that is then renamed over `file`, so a
 * reader that waits for `file` to exist (tests, benchmarks, `npm run demo`) never reads it half
 * written.
 */
export async function writePrivateFile(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, text, { mode: 0o600 });
    await chmod(temporary, 0o600);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
