import { randomBytes, scrypt as scryptCb } from "node:crypto";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { bytesToHex, type Hex, hexToBytes, utf8ToBytes } from "@dseq/common";
import { TssError, TssErrorCode } from "../errors.ts";
import type { PartyId } from "../identity.ts";
import type { GroupInfo, KeyShare } from "../keyShare.ts";
import { removeDurable, writeFileDurable } from "./atomicFile.ts";
import { openAtRest, sealAtRest, subkey } from "./sealed.ts";

const scrypt = promisify(scryptCb) as (
  password: string,
  salt: Uint8Array,
  keylen: number,
  opts: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

export type ScryptParams = { N: number; r: number; p: number };

/** Default scrypt cost: N=2^17, r=8, p=1 (the Ethereum keystore "standard" setting, ~128 MiB). */
export const defaultScryptParams: ScryptParams = { N: 1 << 17, r: 8, p: 1 };

export type KeyShareStoreOptions = {
  /** Directory of the store (created if missing); holds nothing but this store. */
  dir: string;
  password: string;
  /** Only used when the store is created. */
  scrypt?: ScryptParams;
};

type StoreHeader = { version: 1; kdf: "scrypt"; N: number; r: number; p: number; salt: Hex; check: Hex };
type StoreState = { version: 1; active?: number; pending?: number };
type ShareFile = {
  version: 1;
  epoch: number;
  group: GroupInfo;
  self: PartyId;
  identifier: string;
  share: Hex;
};

const HEADER = "keystore.json";
const STATE = "state.json";
const shareFile = (epoch: number): string => `share-${epoch}.json`;
const CHECK = utf8ToBytes("dseq/tss/keystore-check");

/**
 * Key shares at rest: one file per epoch, the signing share sealed with AES-256-GCM under a key
 * derived (scrypt, then HKDF per purpose) from the operator's password; the public group data is
 * the associated data, so it cannot be swapped under a share. A new epoch's share is stored as
 * `pending` beside the active one and only replaces it (and the old share is deleted) once the
 * rotation is confirmed (on L1). Every write is durable (file + directory fsync).
 */
export class KeyShareStore {
  readonly dir: string;
  private readonly master: Uint8Array;
  private state: StoreState;
  private readonly shares: Map<number, KeyShare>;

  private constructor(dir: string, master: Uint8Array, state: StoreState, shares: Map<number, KeyShare>) {
    this.dir = dir;
    this.master = master;
    this.state = state;
    this.shares = shares;
  }

  static async open(opts: KeyShareStoreOptions): Promise<KeyShareStore> {
    await mkdir(opts.dir, { recursive: true, mode: 0o700 });
    let header = await readJson<StoreHeader>(join(opts.dir, HEADER));
    let master: Uint8Array;
    if (!header) {
      const params = opts.scrypt ?? defaultScryptParams;
      const salt = randomBytes(32);
      master = await deriveMaster(opts.password, salt, params);
      header = {
        version: 1,
        kdf: "scrypt",
        ...params,
        salt: bytesToHex(salt),
        check: sealAtRest(subkey(master, "check"), CHECK, CHECK),
      };
      await writeFileDurable(opts.dir, HEADER, JSON.stringify(header, null, 2));
    } else {
      master = await deriveMaster(opts.password, hexToBytes(header.salt), header);
      if (!openAtRest(subkey(master, "check"), CHECK, header.check)) {
        throw new TssError(TssErrorCode.StoreLocked, "wrong password for the key share store");
      }
    }
    const state = (await readJson<StoreState>(join(opts.dir, STATE))) ?? { version: 1 };
    const shares = new Map<number, KeyShare>();
    for (const f of await readdir(opts.dir)) {
      const m = /^share-(\d+)\.json$/.exec(f);
      if (!m) continue;
      const file = await readJson<ShareFile>(join(opts.dir, f));
      if (!file || file.epoch !== Number(m[1])) {
        throw new TssError(TssErrorCode.StoreCorrupt, "unreadable key share file", { details: { file: f } });
      }
      const share = openAtRest(subkey(master, "share"), shareAad(file), file.share);
      if (share?.length !== 32) {
        throw new TssError(TssErrorCode.StoreCorrupt, "key share does not authenticate", {
          details: { file: f },
        });
      }
      shares.set(file.epoch, {
        group: file.group,
        self: file.self,
        identifier: file.identifier,
        signingShare: share,
      });
    }
    return new KeyShareStore(opts.dir, master, state, shares);
  }

  /** The share the node signs with now. */
  active(): KeyShare | undefined {
    return this.state.active === undefined ? undefined : this.shares.get(this.state.active);
  }

  /** A newer share waiting for its rotation to be confirmed. */
  pending(): KeyShare | undefined {
    return this.state.pending === undefined ? undefined : this.shares.get(this.state.pending);
  }

  get(epoch: number): KeyShare | undefined {
    return this.shares.get(epoch);
  }

  /** The share (active or pending) of a group key; lets a signer serve both during rotation. */
  byGroupKey(groupKey: Hex): KeyShare | undefined {
    return this.all().find((s) => s.group.groupKey === groupKey);
  }

  /** Every stored share (active and pending), e.g. to sign the rotation with the old key. */
  all(): KeyShare[] {
    return [...this.shares.values()];
  }

  /**
   * Stores a share for its epoch. The first share becomes active; a later one is pending until
   * `confirmRotation(epoch)`.
   */
  async put(share: KeyShare): Promise<void> {
    const epoch = share.group.epoch;
    const active = this.state.active;
    if (active !== undefined && epoch <= active) {
      throw new TssError(TssErrorCode.BadParams, "epoch is not newer than the active key", {
        details: { epoch, active },
      });
    }
    const meta = {
      version: 1 as const,
      epoch,
      group: share.group,
      self: share.self,
      identifier: share.identifier,
    };
    const file: ShareFile = { ...meta, share: "0x" };
    file.share = sealAtRest(subkey(this.master, "share"), shareAad(file), share.signingShare);
    await writeFileDurable(this.dir, shareFile(epoch), JSON.stringify(file, null, 2));
    this.shares.set(epoch, { ...share, signingShare: share.signingShare.slice() });
    const previousPending = this.state.pending;
    await this.writeState(
      active === undefined ? { version: 1, active: epoch } : { version: 1, active, pending: epoch },
    );
    if (previousPending !== undefined && previousPending !== epoch) await this.drop(previousPending);
  }

  /** The new key is in force (e.g. the L1 accepted the rotation): make it active, delete the old. */
  async confirmRotation(epoch: number): Promise<void> {
    if (this.state.pending !== epoch || !this.shares.has(epoch)) {
      throw new TssError(TssErrorCode.BadParams, "no pending key share for this epoch", {
        details: { epoch },
      });
    }
    const old = this.state.active;
    await this.writeState({ version: 1, active: epoch });
    if (old !== undefined) await this.drop(old);
  }

  /** Key for sealing other secrets of this node at rest (the nonce store). */
  dataKey(purpose: string): Uint8Array {
    return subkey(this.master, `data/${purpose}`);
  }

  private async writeState(s: StoreState): Promise<void> {
    await writeFileDurable(this.dir, STATE, JSON.stringify(s));
    this.state = s;
  }

  private async drop(epoch: number): Promise<void> {
    const s = this.shares.get(epoch);
    s?.signingShare.fill(0);
    this.shares.delete(epoch);
    await removeDurable(this.dir, shareFile(epoch));
  }
}

function shareAad(f: Omit<ShareFile, "share">): Uint8Array {
  return utf8ToBytes(JSON.stringify([f.version, f.epoch, f.group, f.self, f.identifier]));
}

async function deriveMaster(password: string, salt: Uint8Array, p: ScryptParams): Promise<Uint8Array> {
  const maxmem = 128 * p.N * p.r * p.p + 32 * 1024 * 1024;
  return new Uint8Array(await scrypt(password, salt, 32, { N: p.N, r: p.r, p: p.p, maxmem }));
}

async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new TssError(TssErrorCode.StoreCorrupt, "unparseable store file", { details: { path }, cause });
  }
}

export { readJson as readJsonFile };
