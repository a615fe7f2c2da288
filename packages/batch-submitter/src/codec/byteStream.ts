import { badData } from "../errors.ts";

/** Growing byte buffer with unsigned LEB128 varints (bigint-safe). */
export class ByteWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b & 0xff;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  varint(v: bigint | number): void {
    let x = BigInt(v);
    if (x < 0n) throw new RangeError("varint must be non-negative");
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x > 0n) b |= 0x80;
      this.byte(b);
    } while (x > 0n);
  }

  /** A length-prefixed byte string. */
  lbytes(b: Uint8Array): void {
    this.varint(b.length);
    this.bytes(b);
  }

  get length(): number {
    return this.len;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Strict reader: every read is bounds-checked; varints must be minimal; `end()` refuses leftovers. */
export class ByteReader {
  private pos = 0;
  private readonly buf: Uint8Array;
  private readonly what: string;
  constructor(buf: Uint8Array, what: string) {
    this.buf = buf;
    this.what = what;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, field: string): void {
    if (n > this.remaining) {
      throw badData(`${this.what}: truncated reading ${field}`, {
        at: this.pos,
        need: n,
        have: this.remaining,
      });
    }
  }

  byte(field: string): number {
    this.need(1, field);
    return this.buf[this.pos++]!;
  }

  bytes(n: number, field: string): Uint8Array {
    this.need(n, field);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A varint of at most `maxBits` bits (64 unless told), minimal encoding only. */
  varint(field: string, maxBits = 64): bigint {
    let x = 0n;
    let shift = 0n;
    for (let i = 0; ; i++) {
      const b = this.byte(field);
      if (i > 0 && b === 0)
        throw badData(`${this.what}: non-minimal varint in ${field}`, { at: this.pos - 1 });
      x |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) break;
      if (shift >= BigInt(maxBits) + 7n)
        throw badData(`${this.what}: varint too long in ${field}`, { at: this.pos });
    }
    if (x >> BigInt(maxBits) !== 0n)
      throw badData(`${this.what}: ${field} exceeds ${maxBits} bits`, { at: this.pos });
    return x;
  }

  /** A varint used as a count or length, bounded by `max`. */
  count(field: string, max: number): number {
    const v = this.varint(field, 32);
    if (v > BigInt(max))
      throw badData(`${this.what}: ${field} ${v} exceeds the bound ${max}`, { at: this.pos });
    return Number(v);
  }

  lbytes(field: string, max: number): Uint8Array {
    const n = this.count(`${field} length`, Math.min(max, this.remaining));
    return this.bytes(n, field);
  }

  end(): void {
    if (this.remaining !== 0) {
      throw badData(`${this.what}: ${this.remaining} trailing bytes`, { at: this.pos });
    }
  }
}
