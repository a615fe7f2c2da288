import { describe, expect, it } from "vitest";
import { DevnetUsageError } from "./errors.ts";
import { parseDevnetArgs } from "./options.ts";

describe("parseDevnetArgs", () => {
  it("defaults to start with the issue's defaults left to the network", () => {
    // The dev L1 is on by default (ADR 0121); --no-l1 turns it off.
    expect(parseDevnetArgs([])).toEqual({ kind: "start", dataDir: ".devnet", fresh: false, l1: {} });
    expect(parseDevnetArgs(["--no-l1"])).toEqual({ kind: "start", dataDir: ".devnet", fresh: false });
    expect(parseDevnetArgs(["--l1-block-time", "2", "--confirmations", "3"])).toMatchObject({
      l1: { blockTimeSeconds: 2, confirmations: 3 },
    });
    expect(parseDevnetArgs(["start", "--fresh"])).toMatchObject({ kind: "start", fresh: true });
  });

  it("--batch-kind: calldata, blobs or alternate, only with the dev L1 (ADR 0186)", () => {
    expect(parseDevnetArgs(["--batch-kind", "alternate"])).toMatchObject({
      l1: { batches: { kind: "alternate" } },
    });
    expect(parseDevnetArgs(["--batch-kind", "blobs"])).toMatchObject({ l1: { batches: { kind: "blobs" } } });
    expect(() => parseDevnetArgs(["--batch-kind", "blob"])).toThrow(/calldata, blobs or alternate/);
    expect(() => parseDevnetArgs(["--no-l1", "--batch-kind", "blobs"])).toThrow(/needs the dev L1/);
    expect(() => parseDevnetArgs(["--netns", "--batch-kind", "blobs"])).toThrow(DevnetUsageError);
  });

  it("parses every start option", () => {
    expect(
      parseDevnetArgs([
        "--validators",
        "7",
        "--followers",
        "0",
        "--datadir",
        "/tmp/x",
        "--block-time",
        "1000",
        "--span-length",
        "10",
        "--reelect-after-misses",
        "2",
      ]),
    ).toEqual({
      kind: "start",
      dataDir: "/tmp/x",
      fresh: false,
      validators: 7,
      followers: 0,
      blockTimeMs: 1000,
      spanLength: 10,
      reelectAfterMisses: 2,
      l1: {},
    });
  });

  it("parses the L1 commands into control paths (amounts in tokens, sent as wei)", () => {
    const to = "0x00000000000000000000000000000000000000aa";
    expect(parseDevnetArgs(["deposit", to, "1.5"])).toMatchObject({
      kind: "l1",
      path: `/l1/deposit?to=${to}&amount=1500000000000000000`,
    });
    expect(parseDevnetArgs(["add-validator", "--lock", "60000"])).toMatchObject({
      path: `/validators/add?lock=${60000n * 10n ** 18n}`,
    });
    expect(parseDevnetArgs(["unlock", "v5"])).toMatchObject({ path: "/validators/v5/unlock" });
    expect(parseDevnetArgs(["l1", "stop"])).toMatchObject({ path: "/l1/stop" });
    expect(() => parseDevnetArgs(["l1", "pause"])).toThrow(/stop or start/);
    expect(() => parseDevnetArgs(["deposit", "nope", "1"])).toThrow(/L2 address/);
  });

  it.each([
    [["--validators", "0"], /--validators must be between 1 and 32/],
    [["--validators", "four"], /--validators must be a whole number/],
    [["--block-time", "1500"], /--block-time must be a whole number of seconds/],
    [["--block-time", "500"], /--block-time must be between 1000 and 60000/],
    [["--followers", "-1"], /followers/],
    [["--nope"], /Unknown option '--nope'/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [["kill"], /takes exactly one node name/],
    [["kill", "v1", "v2"], /takes exactly one node name/],
    [["load", "--tps", "0"], /--tps must be between 1/],
    [["load", "--rpc", "127.0.0.1:8545"], /--rpc must be an http\(s\) URL/],
  ])("rejects %j", (argv, msg) => {
    expect(() => parseDevnetArgs(argv)).toThrow(DevnetUsageError);
    expect(() => parseDevnetArgs(argv)).toThrow(msg);
  });

  it("parses fault injection and load", () => {
    expect(parseDevnetArgs(["kill", "v2"])).toEqual({
      kind: "control",
      action: "kill",
      node: "v2",
      dataDir: ".devnet",
    });
    expect(parseDevnetArgs(["resume", "f1", "--datadir", "d"])).toMatchObject({
      action: "resume",
      node: "f1",
      dataDir: "d",
    });
    expect(
      parseDevnetArgs([
        "load",
        "--tps",
        "250",
        "--duration",
        "10",
        "--rpc",
        "http://a:1",
        "--rpc",
        "http://b:2",
      ]),
    ).toEqual({
      kind: "load",
      dataDir: ".devnet",
      tps: 250,
      durationS: 10,
      rpc: ["http://a:1", "http://b:2"],
    });
    expect(parseDevnetArgs(["status"])).toEqual({ kind: "status", dataDir: ".devnet" });
    expect(parseDevnetArgs(["--help"])).toEqual({ kind: "help" });
  });
});

describe("parseDevnetArgs: the WAN testbed", () => {
  it("--netns shapes every link from --rtt/--jitter/--loss/--rate and runs without L1", () => {
    expect(parseDevnetArgs(["--netns"])).toEqual({
      kind: "start",
      dataDir: ".devnet",
      fresh: false,
      netns: { delayMs: 50, jitterMs: 0, lossPct: 0, rateMbit: 0 },
    });
    expect(
      parseDevnetArgs([
        "--netns",
        "--rtt",
        "300",
        "--jitter",
        "10",
        "--loss",
        "1.5",
        "--rate",
        "20",
        "--validators",
        "7",
      ]),
    ).toMatchObject({ validators: 7, netns: { delayMs: 150, jitterMs: 10, lossPct: 1.5, rateMbit: 20 } });
    expect(() => parseDevnetArgs(["--rtt", "100"])).toThrow(/--rtt needs --netns/);
    expect(() => parseDevnetArgs(["--netns", "--loss", "101"])).toThrow(/percentage/);
    expect(() => parseDevnetArgs(["--netns", "--confirmations", "2"])).toThrow(/without a dev L1/);
  });

  it("testbed shape|partition|heal|show", () => {
    expect(parseDevnetArgs(["testbed", "shape", "--rtt", "200", "--from", "v1", "--to", "v2"])).toEqual({
      kind: "testbed",
      dataDir: ".devnet",
      action: {
        op: "shape",
        shape: { delayMs: 100, jitterMs: 0, lossPct: 0, rateMbit: 0 },
        from: "v1",
        to: "v2",
      },
    });
    expect(parseDevnetArgs(["testbed", "partition", "v1,v2", "v3,v4", "--one-way"])).toEqual({
      kind: "testbed",
      dataDir: ".devnet",
      action: { op: "partition", a: ["v1", "v2"], b: ["v3", "v4"], oneWay: true },
    });
    expect(parseDevnetArgs(["testbed", "heal", "--datadir", "/tmp/x"])).toEqual({
      kind: "testbed",
      dataDir: "/tmp/x",
      action: { op: "heal" },
    });
    expect(() => parseDevnetArgs(["testbed", "shape", "--from", "v1"])).toThrow(/go together/);
    expect(() => parseDevnetArgs(["testbed", "partition", "v1;rm", "v2"])).toThrow(/bad node list/);
    expect(() => parseDevnetArgs(["testbed", "cut"])).toThrow(DevnetUsageError);
  });
});
