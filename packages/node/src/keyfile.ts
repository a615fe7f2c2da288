import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "./atomicFile.ts";
import { NodeError, NodeErrorCode } from "./errors.ts";
import { decryptKeystore, type EncryptOptions, encryptKeystore } from "./keystore.ts";

/** Where a data dir keeps the sequencer key. */
export function keystorePath(dataDir: string): string {
  return join(dataDir, "keystore", "key.json");
}

/** Encrypts and writes a key; refuses to overwrite an existing keystore file. */
export async function writeKeyFile(
  path: string,
  privateKey: Uint8Array,
  password: string,
  opts: EncryptOptions = {},
): Promise<void> {
  if (existsSync(path)) {
    throw new NodeError(
      NodeErrorCode.KeyExists,
      `a key already exists at ${path}; refusing to overwrite it`,
      {
        details: { path },
      },
    );
  }
  const ks = await encryptKeystore(privateKey, password, opts);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // Checked again right before the rename: two `init`s racing must not both win.
  if (existsSync(path))
    throw new NodeError(NodeErrorCode.KeyExists, `a key already exists at ${path}; refusing to overwrite it`);
  writeFileAtomic(path, `${JSON.stringify(ks, null, 2)}\n`, { mode: 0o600 });
}

export async function readKeyFile(path: string, password: string): Promise<Uint8Array> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new NodeError(
      NodeErrorCode.KeyMissing,
      `cannot read keystore ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)} (run \`dseq init\` first)`,
    );
  }
  return decryptKeystore(text, password);
}
