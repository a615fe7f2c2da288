import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { messageId, messageIdToString, topicName } from "./topics.ts";

describe("topics", () => {
  it("names are namespaced by chain id and versioned", () => {
    expect(topicName(901n, "vote")).toBe("/dseq/901/vote/1");
    expect(topicName(1n, "tx")).toBe("/dseq/1/tx/1");
  });

  it("message id is sha256(len(topic) || topic || data)[:20]", () => {
    const topic = topicName(901n, "tx");
    const data = Uint8Array.of(1, 2, 3);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(topic.length);
    const want = createHash("sha256").update(len).update(topic).update(data).digest().subarray(0, 20);
    expect(Buffer.from(messageId(topic, data)).equals(want)).toBe(true);
    // same bytes on another topic (or chain) is another message
    expect(messageIdToString(messageId(topicName(902n, "tx"), data))).not.toBe(
      messageIdToString(messageId(topic, data)),
    );
  });
});
