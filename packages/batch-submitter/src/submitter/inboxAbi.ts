import { BatchInboxArtifact } from "@dseq/l1-contracts";

/** The BatchInbox ABI (from l1-contracts' compiled artifact). */
export const inboxAbi = BatchInboxArtifact.abi;
