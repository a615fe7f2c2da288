import { describe, expect, it } from "vitest";
import { DevnetUsageError } from "./errors.ts";
import { parseDevnetArgs } from "./options.ts";

describe("parseDevnetArgs", () => {
  it("defaults to start with the issue's defaults left to the network", () => {
    expect(parseDevnetArgs([])).toEqual({ kind: "start", dataDir: ".devnet", fresh: false });
    expect(parseDevnetArgs(["start", "--fresh"])).toMatchObject({ kind: "start", fresh: true });
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
    });
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
