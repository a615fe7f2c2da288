export { DEV_MNEMONIC, type DevAccount, loadAccounts, wellKnownAccounts } from "./accounts.ts";
export { type BlockLine, blockToLine, followBlocks } from "./blockFeed.ts";
export { CONTROL_ACTIONS, type ControlAction, sendControl } from "./control.ts";
export { type Devnet, type DevnetNode, DSEQ_BIN, type StartDevnetOptions, startDevnet } from "./devnet.ts";
export { DevnetError, DevnetUsageError } from "./errors.ts";
export { blockNumber, getBlock, type RpcBlock, rpcBatch, rpcCall } from "./jsonRpc.ts";
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
