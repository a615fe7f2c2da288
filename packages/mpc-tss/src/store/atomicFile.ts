import { open, rename, rm } from "node:fs/promises";
import { join } from "node:path";

/** fsync a directory so a rename inside it survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  const fd = await open(dir, "r");
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}

/**
 * Writes `name` in `dir` so that after a crash it holds either the old or the new content:
 * temp file, fsync, rename over, fsync the directory. Returns only once durable.
 */
export async function writeFileDurable(dir: string, name: string, data: Uint8Array | string): Promise<void> {
  const tmp = join(dir, `.${name}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const fd = await open(tmp, "w", 0o600);
  try {
    await fd.writeFile(data);
    await fd.sync();
  } finally {
    await fd.close();
  }
  try {
    await rename(tmp, join(dir, name));
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dir);
}

export async function removeDurable(dir: string, name: string): Promise<void> {
  await rm(join(dir, name), { force: true });
  await syncDir(dir);
}
