import { bytesToHex, type Hex, utf8ToBytes } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import { type ConsensusMessage, MsgType } from "../src/types.ts";
import { signProposal, signVote } from "./fixtures.ts";
import { makeSimBlock, type Simulation } from "./sim.ts";

/**
 * A Byzantine validator played by the test: it holds its own key (and no double-sign guard),
 * watches the gossip, and sends different signed messages to different honest nodes.
 */
export class Equivocator {
  private readonly acted = new Set<string>();
  private readonly proposedAt = new Set<number>();
  private readonly sim: Simulation;
  readonly indices: number[];
  /** Honest node indices that get the "A" side; the other honest nodes get the "B" side. */
  private readonly sideA: number[];

  constructor(sim: Simulation, indices: number[], sideA: number[]) {
    this.sim = sim;
    this.indices = indices;
    this.sideA = sideA;
    for (const i of indices) this.sim.net.attach({ id: i, deliver: (m) => this.onMessage(i, m) });
  }

  private get sideB(): number[] {
    return this.sim.honest.map((n) => n.index).filter((i) => !this.sideA.includes(i));
  }

  private addr(i: number): Hex {
    return this.sim.tv.addresses[i]!;
  }

  private proposer(height: number, round: number): number {
    return (height + round) % this.sim.tv.addresses.length;
  }

  /** Round 0 of `height`: if it is ours, propose X to side A and Y to side B. */
  maybePropose(height: number): void {
    const p = this.proposer(height, 0);
    if (!this.indices.includes(p) || this.proposedAt.has(height)) return;
    this.proposedAt.add(height);
    const x = makeSimBlock(height, p, 1_000_000 + height * 2);
    const y = makeSimBlock(height, p, 1_000_001 + height * 2);
    this.sim.proposed.set(x.hash, x);
    this.sim.proposed.set(y.hash, y);
    const key = this.sim.tv.keys[p]!;
    const px = signProposal(key, this.addr(p), height, 0, -1, x.hash);
    const py = signProposal(key, this.addr(p), height, 0, -1, y.hash);
    this.sim.net.send(p, { type: "proposal", proposal: px, block: x }, this.sideA);
    this.sim.net.send(p, { type: "proposal", proposal: py, block: y }, this.sideB);
  }

  /** Votes `a` to side A and `b` to side B, prevote and precommit, from every faulty validator. */
  voteBoth(height: number, round: number, a: Hex | null, b: Hex | null): void {
    for (const i of this.indices) {
      const key = this.sim.tv.keys[i]!;
      for (const type of [MsgType.Prevote, MsgType.Precommit] as const) {
        this.sim.net.send(
          i,
          { type: "vote", vote: signVote(key, this.addr(i), type, height, round, a) },
          this.sideA,
        );
        this.sim.net.send(
          i,
          { type: "vote", vote: signVote(key, this.addr(i), type, height, round, b) },
          this.sideB,
        );
      }
    }
  }

  private onMessage(_self: number, m: ConsensusMessage): void {
    if (m.type === "certificate") {
      this.maybePropose(m.certificate.height + 1);
      return;
    }
    const [h, r, hash] =
      m.type === "proposal"
        ? [m.proposal.height, m.proposal.round, m.proposal.blockHash]
        : [m.vote.height, m.vote.round, m.vote.blockHash];
    const key = `${h}:${r}`;
    if (hash === null || this.acted.has(key)) return;
    this.acted.add(key);
    // Honest-looking vote to side A, a vote for a block nobody has to side B.
    this.voteBoth(h, r, hash, bytesToHex(keccak256(utf8ToBytes(`phantom ${key}`))));
  }
}
