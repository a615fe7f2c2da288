import { DseqError } from "@dseq/common";

/** A bad command line: the CLI prints the message and the usage, and exits with 2. */
export class DevnetUsageError extends DseqError {
  constructor(message: string) {
    super("DEVNET_USAGE", message);
    this.name = "DevnetUsageError";
  }
}

/** Anything else the devnet cannot do (a node did not start, no supervisor is running, ...). */
export class DevnetError extends DseqError {
  constructor(code: string, message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super(code, message, { details, cause });
    this.name = "DevnetError";
  }
}
