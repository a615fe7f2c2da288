import { NodeError, NodeErrorCode } from "../errors.ts";

/** What an `initX` function returns: the running module and how to stop it. */
export type Started<T> = { module: T; stop: () => Promise<void> | void };

export class NodeStartError extends NodeError {
  constructor(message: string, cause?: unknown) {
    super(NodeErrorCode.Start, message, { cause });
    this.name = "NodeStartError";
  }
}

export function listenError(what: string, host: string, port: number, err: unknown): NodeStartError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE") return new NodeStartError(`${what} port ${host}:${port} is already in use`, err);
  return new NodeStartError(`cannot listen for ${what} on ${host}:${port}: ${(err as Error).message}`, err);
}
