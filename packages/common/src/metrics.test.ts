import { describe, expect, it } from "vitest";
import { createMetrics } from "./metrics.ts";

describe("metrics", () => {
  it("counters, gauges and histograms render in Prometheus text", async () => {
    const m = createMetrics();
    const c = m.counter({ name: "dseq_test_msgs_total", help: "messages", labelNames: ["topic"] as const });
    c.inc({ topic: "tx" });
    c.inc({ topic: "tx" }, 2);
    const g = m.gauge({ name: "dseq_test_peers_total", help: "peers" });
    g.set(4);
    g.dec();
    const h = m.histogram({ name: "dseq_test_build_seconds", help: "build", buckets: [0.1, 1] });
    h.observe(0.5);
    const text = await m.render();
    expect(text).toContain('dseq_test_msgs_total{topic="tx"} 3');
    expect(text).toContain("dseq_test_peers_total 3");
    expect(text).toContain('dseq_test_build_seconds_bucket{le="1"} 1');
    expect(await m.values("dseq_test_peers_total")).toEqual([{ labels: {}, value: 3 }]);
  });

  it("registries are per node: two do not collide, and asking twice returns the same metric", async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.counter({ name: "dseq_test_x_total", help: "x" }).inc();
    a.counter({ name: "dseq_test_x_total", help: "x" }).inc();
    b.counter({ name: "dseq_test_x_total", help: "x" }).inc();
    expect((await a.values("dseq_test_x_total"))[0]?.value).toBe(2);
    expect((await b.values("dseq_test_x_total"))[0]?.value).toBe(1);
  });

  it("refuses names outside the dseq_<module>_<what>_<unit> convention", () => {
    expect(() => createMetrics().counter({ name: "requests", help: "x" })).toThrow(/dseq_<module>/);
  });
});
