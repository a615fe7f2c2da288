/** eth_getLogs, polling filters and eth_subscribe. */
import type { Services } from "../context.ts";
import { RpcError, RpcErrorCode } from "../errors.ts";
import type { FilterManager } from "../filters.ts";
import { queryLogs } from "../logs.ts";
import { logFilter, optional, type Parser, required, string } from "../params.ts";
import { type MethodDef, method } from "../registry.ts";
import type { SubscriptionManager } from "../subscriptions.ts";

const anyValue: Parser<unknown> = (v) => v;

export function logMethods(
  svc: Services,
  filters: FilterManager,
  subscriptions: SubscriptionManager,
): Record<string, MethodDef> {
  return {
    eth_getLogs: method([required(logFilter)], ([f], ctx) => queryLogs(svc, f, ctx.signal)),
    eth_newFilter: method([required(logFilter)], ([f]) => filters.newLogFilter(f)),
    eth_newBlockFilter: method([], () => filters.newBlockFilter()),
    eth_newPendingTransactionFilter: method([], () => filters.newPendingTransactionFilter()),
    eth_getFilterChanges: method([required(string)], ([id], ctx) => filters.changes(id, ctx.signal)),
    eth_getFilterLogs: method([required(string)], ([id], ctx) => filters.logs(id, ctx.signal)),
    eth_uninstallFilter: method([required(string)], ([id]) => filters.uninstall(id)),
    eth_subscribe: method([required(anyValue), optional(anyValue)], ([kind, arg], ctx) => {
      if (ctx.session === undefined) {
        throw new RpcError(RpcErrorCode.NotificationsUnsupported, "notifications not supported");
      }
      return subscriptions.subscribe(ctx.session, kind, arg);
    }),
    eth_unsubscribe: method([required(string)], ([id], ctx) => {
      if (ctx.session === undefined) {
        throw new RpcError(RpcErrorCode.NotificationsUnsupported, "notifications not supported");
      }
      return subscriptions.unsubscribe(ctx.session, id);
    }),
  };
}
