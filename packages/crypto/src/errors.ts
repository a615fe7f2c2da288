import { DseqError, type DseqErrorOptions } from "@dseq/common";

/**
 * Stable codes of the errors this package throws (`DseqError.code`); callers match on these,
 * never on message text. Messages that @ethereumjs also produces ("Invalid signature v value")
 * are kept word for word. Wrong argument types or lengths stay `TypeError`, as in common's
 * byte helpers: they are bugs of the caller, not outcomes.
 */
export const CryptoErrorCode = {
  /** A public-key multiplication by the scalar 0 (the point at infinity has no encoding). */
  ZeroScalar: "CRYPTO_ZERO_SCALAR",
  /** A `v` that gives no recovery id (neither 0/1, 27/28 nor EIP-155 for the chain). */
  BadSignatureV: "CRYPTO_BAD_SIGNATURE_V",
  /** An `r` or `s` longer than 32 bytes. */
  SignatureComponentTooLong: "CRYPTO_SIGNATURE_COMPONENT_TOO_LONG",
  /** `ecsign` asked for a format other than "recovered". */
  UnsupportedSignatureFormat: "CRYPTO_UNSUPPORTED_SIGNATURE_FORMAT",
} as const;
export type CryptoErrorCode = (typeof CryptoErrorCode)[keyof typeof CryptoErrorCode];

export class CryptoError extends DseqError {
  override readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string, opts: DseqErrorOptions = {}) {
    super(code, message, opts);
    this.name = "CryptoError";
    this.code = code;
  }
}
