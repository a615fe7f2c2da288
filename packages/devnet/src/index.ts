export { DEV_MNEMONIC, type DevAccount, loadAccounts, wellKnownAccounts } from "./accounts.ts";
export { type BlockLine, blockToLine, followBlocks } from "./blockFeed.ts";
export { CONTROL_ACTIONS, type ControlAction, sendControl, sendL1Control } from "./control.ts";
export {
  type Devnet,
  type DevnetL1Settings,
  type DevnetNode,
  DSEQ_BIN,
  L1_FILE,
  type StartDevnetOptions,
  startDevnet,
  writeVerifierConfig,
} from "./devnet.ts";
export { DevnetError, DevnetUsageError } from "./errors.ts";
export { blockNumber, getBlock, type RpcBlock, rpcBatch, rpcCall } from "./jsonRpc.ts";
export { type DevnetL1, type DevnetL1Options, type L1Sequencer, startDevnetL1 } from "./l1.ts";
export {
  type LoadOptions,
  type LoadProgress,
  type LoadReport,
  quantile,
  runLoad,
  signTransfers,
} from "./load.ts";
export { ManagedProcess, type ProcessExit, type ProcessSpec, type ProcessState } from "./managedProcess.ts";
export {
  buildChainSpec,
  buildNodeConfig,
  CHAIN_SPEC_FILE,
  DEVNET_PASSWORD,
  defaultGenerateOptions,
  type GenerateNetworkOptions,
  generateNetwork,
  type NetworkInfo,
  type NetworkNode,
  type NodeLayout,
  type NodePorts,
  nodeNames,
  readNetwork,
  writeNodeConfigs,
} from "./network.ts";
export { type DevnetCommand, parseDevnetArgs, USAGE } from "./options.ts";
export { allocatePorts, isPortFree, PORT_RANGE } from "./ports.ts";
export { type DevnetState, readState, STATE_FILE } from "./state.ts";
export { canUseNetns, createTestbed, type Testbed } from "./testbed/driver.ts";
export { type LinkShape, UNSHAPED } from "./testbed/plan.ts";
export { startTestbedDevnet, type TestbedDevnet } from "./testbed/testbedDevnet.ts";
