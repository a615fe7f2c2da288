import { describe, expect, it } from "vitest";
import { Heap } from "./heap.ts";

describe("Heap", () => {
  it("pops in order after heapify, push and fixTop", () => {
    const input = [5, 3, 9, 1, 7, 3, 8, 2, 6, 0];
    const h = new Heap<number>((a, b) => a < b, [...input]);
    h.push(4);
    const out: number[] = [];
    while (h.size > 0) out.push(h.pop() as number);
    expect(out).toEqual([...input, 4].sort((a, b) => a - b));
  });

  it("fixTop re-sorts a changed top", () => {
    const box = [{ v: 1 }, { v: 2 }, { v: 3 }];
    const h = new Heap<{ v: number }>((a, b) => a.v < b.v, [...box]);
    (h.peek() as { v: number }).v = 10;
    h.fixTop();
    expect([h.pop()?.v, h.pop()?.v, h.pop()?.v]).toEqual([2, 3, 10]);
    expect(h.pop()).toBeUndefined();
  });
});
