import { readFileSync } from "node:fs";
import { NodeError, NodeErrorCode } from "../errors.ts";

export const PASSWORD_ENV = "DSEQ_KEY_PASSWORD";

/** Reads a line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    let value = "";
    const onData = (buf: Buffer): void => {
      for (const ch of buf.toString("utf8")) {
        if (ch === "\r" || ch === "\n" || ch === "\u0004") {
          done();
          process.stderr.write("\n");
          resolve(value);
          return;
        }
        if (ch === "\u0003") {
          done();
          process.stderr.write("\n");
          reject(new NodeError(NodeErrorCode.CliAborted, "aborted"));
          return;
        }
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else value += ch;
      }
    };
    const done = (): void => {
      stdin.off("data", onData);
      stdin.setRawMode?.(false);
      stdin.pause();
    };
    stdin.setRawMode?.(true);
    stdin.resume();
    stdin.on("data", onData);
  });
}

export type PasswordSource = { passwordFile?: string | undefined; confirm?: boolean };

/**
 * The keystore password, from (in order) --password-file, $DSEQ_KEY_PASSWORD, or a hidden
 * prompt when stdin is a terminal. Never logged.
 */
export async function readPassword(src: PasswordSource): Promise<string> {
  if (src.passwordFile) {
    let text: string;
    try {
      text = readFileSync(src.passwordFile, "utf8");
    } catch (err) {
      throw new NodeError(
        NodeErrorCode.CliPasswordFile,
        `cannot read password file ${src.passwordFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
    const first = text.split(/\r?\n/)[0] ?? "";
    if (first.length === 0)
      throw new NodeError(NodeErrorCode.CliPasswordEmpty, `password file ${src.passwordFile} is empty`);
    return first;
  }
  const env = process.env[PASSWORD_ENV];
  if (env !== undefined && env.length > 0) return env;
  if (!process.stdin.isTTY) {
    throw new NodeError(
      NodeErrorCode.CliNoPassword,
      `no keystore password: pass --password-file <file>, set ${PASSWORD_ENV}, or run in a terminal`,
    );
  }
  const pw = await promptHidden("Keystore password: ");
  if (pw.length === 0) throw new NodeError(NodeErrorCode.CliPasswordEmpty, "the password must not be empty");
  if (src.confirm) {
    const again = await promptHidden("Repeat password: ");
    if (again !== pw) throw new NodeError(NodeErrorCode.CliPasswordMismatch, "the passwords do not match");
  }
  return pw;
}
