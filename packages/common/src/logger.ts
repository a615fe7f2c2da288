import { Writable } from "node:stream";
import pino from "pino";
import pretty from "pino-pretty";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace";
export type LogContext = Record<string, unknown>;

/**
 * The logger every package takes. Message first, structured context second:
 * `log.info("block committed", {height, txs, ms})`. Never put keys, shares or nonces in it.
 */
export interface Logger {
  error(msg: string, ctx?: LogContext): void;
  warn(msg: string, ctx?: LogContext): void;
  info(msg: string, ctx?: LogContext): void;
  debug(msg: string, ctx?: LogContext): void;
  trace(msg: string, ctx?: LogContext): void;
  /** A logger for a sub-module; its bindings (e.g. `{module: "txpool"}`) go on every line. */
  child(bindings: LogContext): Logger;
  readonly level: LogLevel;
}

export type LoggerOptions = {
  level?: LogLevel;
  /** `json` (default), `pretty`, or `auto`: pretty when the destination is a TTY. */
  format?: "json" | "pretty" | "auto";
  /** Where lines go; defaults to stdout. */
  destination?: NodeJS.WritableStream;
  /** Bindings on every line, e.g. `{node: "val-1"}`. */
  base?: LogContext;
};

/**
 * Field names that are censored wherever they appear (one or two levels deep), so a careless
 * `log.debug("...", {key})` cannot leak a secret.
 */
export const REDACTED_FIELDS = [
  "privateKey",
  "private_key",
  "secretKey",
  "secret",
  "password",
  "passphrase",
  "mnemonic",
  "share",
  "secretShare",
  "signingShare",
  "nonce_secret",
  "nonces",
  "keystorePassword",
];

function redactPaths(): string[] {
  const out: string[] = [];
  for (const f of REDACTED_FIELDS) out.push(f, `*.${f}`);
  return out;
}

function errSerializer(err: unknown): unknown {
  if (err instanceof Error) {
    const out: Record<string, unknown> = { type: err.name, message: err.message, stack: err.stack };
    const code = (err as { code?: unknown }).code;
    if (code !== undefined) out.code = code;
    if (err.cause !== undefined) out.cause = errSerializer(err.cause);
    return out;
  }
  return err;
}

class PinoLogger implements Logger {
  private readonly p: pino.Logger;
  constructor(p: pino.Logger) {
    this.p = p;
  }
  get level(): LogLevel {
    return this.p.level as LogLevel;
  }
  error(msg: string, ctx?: LogContext): void {
    ctx ? this.p.error(ctx, msg) : this.p.error(msg);
  }
  warn(msg: string, ctx?: LogContext): void {
    ctx ? this.p.warn(ctx, msg) : this.p.warn(msg);
  }
  info(msg: string, ctx?: LogContext): void {
    ctx ? this.p.info(ctx, msg) : this.p.info(msg);
  }
  debug(msg: string, ctx?: LogContext): void {
    ctx ? this.p.debug(ctx, msg) : this.p.debug(msg);
  }
  trace(msg: string, ctx?: LogContext): void {
    ctx ? this.p.trace(ctx, msg) : this.p.trace(msg);
  }
  child(bindings: LogContext): Logger {
    return new PinoLogger(this.p.child(bindings));
  }
}

/** A pino-backed logger. JSON lines by default; pretty when asked (or `auto` on a TTY). */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const destination = opts.destination ?? process.stdout;
  const format = opts.format ?? "json";
  const isTty = (destination as { isTTY?: boolean }).isTTY === true;
  const usePretty = format === "pretty" || (format === "auto" && isTty);
  const stream = usePretty
    ? pretty({ destination: destination as Writable, sync: true, colorize: isTty })
    : (destination as Writable);
  const p = pino(
    {
      level: opts.level ?? "info",
      base: opts.base ?? {},
      redact: { paths: redactPaths(), censor: "[redacted]" },
      serializers: { err: errSerializer, error: errSerializer },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
  return new PinoLogger(p);
}

/** A logger that drops everything: for embedding and tests that do not care. */
export function createNoopLogger(): Logger {
  const noop = (): void => {};
  const l: Logger = {
    level: "fatal",
    error: noop,
    warn: noop,
    info: noop,
    debug: noop,
    trace: noop,
    child: () => l,
  };
  return l;
}

export type CapturedLine = { level: LogLevel; msg: string } & LogContext;

/** A JSON logger that keeps its lines in memory, for tests that assert on logging. */
export function createCapturingLogger(level: LogLevel = "trace"): { logger: Logger; lines: CapturedLine[] } {
  const lines: CapturedLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) lines.push(JSON.parse(line));
      cb();
    },
  });
  return { logger: createLogger({ level, destination, format: "json" }), lines };
}
