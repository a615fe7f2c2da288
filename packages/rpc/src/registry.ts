import { invalidParams } from "./errors.ts";
import type { Json } from "./format.ts";
import { ParamError, type ParamSpec } from "./params.ts";

/** A WebSocket connection's view for eth_subscribe: where notifications go. */
export interface Session {
  readonly id: number;
  /** Sends an `eth_subscription` notification; false when the session is gone or overloaded. */
  notify(subscription: string, result: Json): boolean;
  /** Runs when the session closes (subscriptions clean up). */
  onClose(fn: () => void): void;
}

export type CallContext = {
  /** Aborts when the request times out or the client goes away. */
  signal: AbortSignal;
  /** Present on WebSocket connections only. */
  session?: Session;
};

// biome-ignore lint/suspicious/noExplicitAny: a registry holds methods of every parameter type.
type AnySpecs = readonly ParamSpec<any>[];
type ArgsOf<S extends AnySpecs> = { [I in keyof S]: S[I] extends ParamSpec<infer T> ? T : never };

export type MethodDef<S extends AnySpecs = AnySpecs> = {
  params: S;
  run(args: ArgsOf<S>, ctx: CallContext): Promise<Json> | Json;
};

export function method<const S extends AnySpecs>(params: S, run: MethodDef<S>["run"]): MethodDef {
  return { params, run } as unknown as MethodDef;
}

/** Method name -> definition, with geth's positional-argument checks. */
export class MethodRegistry {
  private readonly methods = new Map<string, MethodDef>();

  register(name: string, def: MethodDef): void {
    if (this.methods.has(name)) throw new Error(`method ${name} registered twice`);
    this.methods.set(name, def);
  }

  registerAll(defs: Record<string, MethodDef>): void {
    for (const [name, def] of Object.entries(defs)) this.register(name, def);
  }

  has(name: string): boolean {
    return this.methods.has(name);
  }

  get(name: string): MethodDef | undefined {
    return this.methods.get(name);
  }

  names(): string[] {
    return [...this.methods.keys()].sort();
  }

  /** Decodes positional params against the method's specs (geth's messages). */
  static parseArgs(def: MethodDef, params: unknown[]): unknown[] {
    const specs = def.params;
    if (params.length > specs.length) {
      throw invalidParams(`too many arguments, want at most ${specs.length}`);
    }
    const out: unknown[] = [];
    for (let i = 0; i < specs.length; i++) {
      const spec = specs[i] as ParamSpec<unknown>;
      const raw = params[i];
      if (raw === undefined || raw === null) {
        if (!spec.optional) throw invalidParams(`missing value for required argument ${i}`);
        out.push(spec.fallback);
        continue;
      }
      try {
        out.push(spec.parse(raw));
      } catch (err) {
        if (err instanceof ParamError) throw invalidParams(`invalid argument ${i}: ${err.message}`);
        throw err;
      }
    }
    return out;
  }
}
