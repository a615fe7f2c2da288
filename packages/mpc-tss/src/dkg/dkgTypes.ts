import type { Hex } from "@dseq/common";
import type { DKG_Secret, Key } from "@noble/curves/abstract/frost.js";
import type { TArg } from "@noble/curves/utils.js";
import type { PartyId, PartyKey } from "../identity.ts";
import type { GroupInfo, KeyShare } from "../keyShare.ts";
import type {
  DkgComplaintMsg,
  DkgEquivocationMsg,
  DkgOkMsg,
  DkgRound1Msg,
  DkgRound2Msg,
  TssMessage,
} from "../messages.ts";
import type { Rng } from "../suite.ts";

export const DkgExclusionReason = {
  BadShare: "bad-share",
  FalseComplaint: "false-complaint",
  BadProofOfKnowledge: "bad-proof-of-knowledge",
  Equivocation: "equivocation",
} as const;
export type DkgExclusionReason = (typeof DkgExclusionReason)[keyof typeof DkgExclusionReason];

export type DkgExclusion = { party: PartyId; reason: DkgExclusionReason; accuser?: PartyId };

export type DkgResult = {
  keyShare: KeyShare;
  group: GroupInfo;
  /** Members excluded as culprits, with the reason every honest party agreed on. */
  excluded: DkgExclusion[];
  /** Every participant's signature over (session, attempt, transcript, group key). */
  confirmations: { party: PartyId; sig: Hex }[];
};

/** Everything the core needs, fixed for the session. */
export type DkgCoreConfig = {
  epoch: number;
  /** Sorted validator set. */
  members: PartyId[];
  threshold: number;
  sessionId: Hex;
  /** This party's long-term key: signs its statements, opens the boxes sent to it. */
  key: PartyKey;
  /** A peer repeating itself gets our messages again at most every half of this. */
  resendIntervalMs: number;
  /** Source of every secret the core draws: polynomial coefficients, ephemeral keys, IVs, proof nonces. */
  rng: Rng;
};

/** One attempt: the DKG among the members not excluded so far. */
export type Attempt = {
  /** Attempt id: bitmap of the excluded members (`attemptId`). */
  mask: Hex;
  active: PartyId[];
  pos: Map<PartyId, number>;
  max: number;
  secret: DKG_Secret;
  ephSecret: Uint8Array;
  r1Out: DkgRound1Msg;
  r1: Map<PartyId, DkgRound1Msg>;
  /** Round-1 commitments decompressed once (noble would take a BigInt square root per use). */
  points: Map<PartyId, Uint8Array[]>;
  /** Set once a transcript mismatch was seen: we echo every round-1 message we hold. */
  echoes?: TssMessage[];
  transcript?: Uint8Array;
  r2Out: Map<PartyId, DkgRound2Msg>;
  r2In: Map<PartyId, { msg: DkgRound2Msg; share: Uint8Array }>;
  key?: TArg<Key>;
  okOut?: DkgOkMsg;
  oks: Map<PartyId, DkgOkMsg>;
  lastReply: Map<PartyId, number>;
};

export const DkgPhase = {
  Idle: "idle",
  Running: "running",
  Done: "done",
  Failed: "failed",
  Closed: "closed",
} as const;
export type DkgPhase = (typeof DkgPhase)[keyof typeof DkgPhase];

/**
 * One party's DKG state. It belongs to the core: `stepDkg` updates it in place and returns it
 * (copying the maps of a 21-member attempt on every message would cost more than the DKG).
 */
export type DkgState = {
  readonly config: DkgCoreConfig;
  phase: DkgPhase;
  readonly identifiers: Record<PartyId, string>;
  readonly index: Map<PartyId, number>;
  readonly excluded: Map<PartyId, DkgExclusion>;
  /** Complaints or equivocation proofs behind each exclusion; sent to peers still behind. */
  readonly evidence: Map<PartyId, DkgComplaintMsg | DkgEquivocationMsg>;
  readonly past: Map<Hex, Attempt>;
  /** Messages of an attempt we have not reached yet (sender knows of more culprits). */
  readonly buffered: Map<Hex, { from: PartyId; message: TssMessage; now: number }[]>;
  attempt: Attempt | undefined;
};

export type DkgInput =
  | { readonly type: "start" }
  | { readonly type: "message"; readonly from: PartyId; readonly message: TssMessage; readonly now: number }
  /** The driver's retransmission tick. */
  | { readonly type: "resend" }
  | { readonly type: "deadline" }
  | { readonly type: "close" };

export type DkgEffect =
  | { readonly type: "broadcast"; readonly message: TssMessage }
  | { readonly type: "send"; readonly to: PartyId; readonly message: TssMessage }
  | {
      readonly type: "log";
      readonly level: "debug" | "info" | "warn";
      readonly text: string;
      readonly fields: Record<string, unknown>;
    }
  | { readonly type: "culprit"; readonly exclusion: DkgExclusion }
  | { readonly type: "done"; readonly result: DkgResult }
  | { readonly type: "failed"; readonly error: unknown };

export type DkgStepResult = { readonly state: DkgState; readonly effects: DkgEffect[] };

/** What the core's operations share while one input is stepped. */
export type DkgStep = { readonly s: DkgState; readonly fx: DkgEffect[] };
