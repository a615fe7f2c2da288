import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { DevnetError, DevnetErrorCode } from "./errors.ts";

export type ProcessSpec = {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdout and stderr are appended here. */
  logPath: string;
};

export type ProcessState = "stopped" | "running" | "paused";

export type ProcessExit = { code: number | null; signal: NodeJS.Signals | null };

/** Grace period between SIGTERM and SIGKILL in `stop()`. */
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;

/**
 * One supervised child process: start, kill (SIGKILL), pause/resume (SIGSTOP/SIGCONT),
 * stop (SIGTERM, SIGKILL after a grace period) and restart with the same spec.
 */
export class ManagedProcess {
  readonly spec: ProcessSpec;
  private child: ChildProcess | undefined;
  private exited: Promise<ProcessExit> | undefined;
  private paused = false;
  /** How the last run ended (undefined while running or before the first start). */
  lastExit: ProcessExit | undefined;
  /** Called after every exit, expected or not. */
  onExit: ((exit: ProcessExit) => void) | undefined;

  constructor(spec: ProcessSpec) {
    this.spec = spec;
  }

  get state(): ProcessState {
    if (this.child === undefined) return "stopped";
    return this.paused ? "paused" : "running";
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.child !== undefined) {
      throw new DevnetError(DevnetErrorCode.AlreadyRunning, `${this.spec.name} is already running`);
    }
    mkdirSync(dirname(this.spec.logPath), { recursive: true });
    const fd = openSync(this.spec.logPath, "a");
    let child: ChildProcess;
    try {
      child = spawn(this.spec.command, this.spec.args, {
        cwd: this.spec.cwd,
        env: this.spec.env ?? process.env,
        stdio: ["ignore", fd, fd],
        // Own process group: a terminal's Ctrl-C reaches only the supervisor, which then stops
        // the children in order (a node would take SIGINT + our SIGTERM as "exit now").
        detached: true,
      });
    } finally {
      closeSync(fd); // the child holds its own copy
    }
    this.child = child;
    this.paused = false;
    this.lastExit = undefined;
    this.exited = new Promise<ProcessExit>((resolve) => {
      const done = (exit: ProcessExit): void => {
        if (this.child !== child) return;
        this.child = undefined;
        this.paused = false;
        this.lastExit = exit;
        resolve(exit);
        this.onExit?.(exit);
      };
      child.once("exit", (code, signal) => done({ code, signal }));
      // spawn failures (ENOENT) arrive as "error" without an "exit"
      child.once("error", () => done({ code: -1, signal: null }));
    });
    if (child.pid === undefined) {
      // the "error" event follows on the next tick; make the failure visible here too
      throw new DevnetError(
        DevnetErrorCode.SpawnFailed,
        `could not start ${this.spec.name} (${this.spec.command})`,
      );
    }
  }

  /** Resolves when the current run ends (at once when not running). */
  async waitExit(): Promise<ProcessExit | undefined> {
    if (this.child === undefined) return this.lastExit;
    return this.exited;
  }

  private signal(sig: NodeJS.Signals): boolean {
    const child = this.child;
    if (child?.pid === undefined) return false;
    try {
      return process.kill(child.pid, sig);
    } catch {
      return false;
    }
  }

  /** SIGKILL, the crash: no shutdown code runs in the child. */
  async kill(): Promise<ProcessExit | undefined> {
    if (this.child === undefined) return this.lastExit;
    const exited = this.exited;
    this.signal("SIGKILL");
    return exited;
  }

  pause(): void {
    if (this.child === undefined)
      throw new DevnetError(DevnetErrorCode.NotRunning, `${this.spec.name} is not running`);
    if (this.signal("SIGSTOP")) this.paused = true;
  }

  resume(): void {
    if (this.child === undefined)
      throw new DevnetError(DevnetErrorCode.NotRunning, `${this.spec.name} is not running`);
    if (this.signal("SIGCONT")) this.paused = false;
  }

  /** Graceful stop: SIGTERM (and SIGCONT if paused), SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<ProcessExit | undefined> {
    if (this.child === undefined) return this.lastExit;
    const exited = this.exited as Promise<ProcessExit>;
    this.signal("SIGTERM");
    if (this.paused) this.signal("SIGCONT");
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const first = await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    if (first === "timeout") {
      this.signal("SIGKILL");
      return exited;
    }
    return first;
  }

  /** Starts the process again with the same spec (stopping it gracefully first if it runs). */
  async restart(timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<void> {
    if (this.child !== undefined) await this.stop(timeoutMs);
    this.start();
  }

  /** Synchronous last resort for `process.on("exit")`: no child outlives its supervisor. */
  killSync(): void {
    if (this.paused) this.signal("SIGCONT");
    this.signal("SIGKILL");
  }
}
