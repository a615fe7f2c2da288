/** Bytes and hex helpers. Hex strings are lower-case with a `0x` prefix. */
export type Hex = `0x${string}`;

const HEX_RE = /^0x[0-9a-fA-F]*$/;

export function isHex(value: unknown, opts: { strict?: boolean } = {}): value is Hex {
  if (typeof value !== "string" || !HEX_RE.test(value)) return false;
  return opts.strict === false || value.length % 2 === 0;
}

export function hexToBytes(hex: string): Uint8Array {
  if (!isHex(hex, { strict: false })) throw new TypeError(`invalid hex string: ${hex.slice(0, 20)}`);
  const body = hex.length % 2 === 0 ? hex.slice(2) : `0${hex.slice(2)}`;
  return new Uint8Array(Buffer.from(body, "hex"));
}

export function bytesToHex(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")}`;
}

export function bigintToHex(n: bigint): Hex {
  if (n < 0n) throw new RangeError("negative bigint has no quantity encoding");
  return `0x${n.toString(16)}`;
}

export function numberToHex(n: number): Hex {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a non-negative safe integer: ${n}`);
  return `0x${n.toString(16)}`;
}

/** Parses an Ethereum QUANTITY (`0x` + hex without leading zeros, `0x0` for zero). */
export function hexToBigint(hex: string): bigint {
  if (!isHex(hex, { strict: false }) || hex.length === 2) throw new TypeError(`invalid quantity: ${hex}`);
  return BigInt(hex);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lexicographic order of two byte strings, for sorting keys. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

export function utf8ToBytes(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

export function bytesToUtf8(b: Uint8Array): string {
  return utf8Decoder.decode(b);
}

/** Big-endian unsigned integer of `width` bytes. */
export function uintToBytes(n: bigint | number, width: number): Uint8Array {
  let v = BigInt(n);
  if (v < 0n || v >= 1n << BigInt(width * 8)) throw new RangeError(`${v} does not fit in ${width} bytes`);
  const out = new Uint8Array(width);
  for (let i = width - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function bytesToBigint(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  return BigInt(bytesToHex(b));
}
