export { fsyncDir, writeFileAtomic } from "./atomicFile.ts";
export { BLOCK_EXTRA_VERSION, type BlockExtra, decodeBlockExtra, encodeBlockExtra } from "./blockExtra.ts";
export {
  type ChainSpec,
  ChainSpecError,
  type ChainSpecInput,
  chainSpecSchema,
  chainSpecToJson,
  loadChainSpec,
  parseChainSpec,
} from "./chainSpec.ts";
export { ConfigError, loadNodeConfig, type NodeConfig, nodeConfigSchema, parseNodeConfig } from "./config.ts";
export { keystorePath, readKeyFile, writeKeyFile } from "./keyfile.ts";
export {
  decryptKeystore,
  type EncryptOptions,
  encryptKeystore,
  type KeyInfo,
  KeystoreError,
  type KeystoreV3,
  keyInfo,
  SCRYPT_LIGHT,
  SCRYPT_STANDARD,
  toChecksumAddress,
} from "./keystore.ts";
export { genesisTssValidators } from "./tss/genesisSet.ts";
export { type LocalGenesisDkgMember, runLocalGenesisDkg } from "./tss/localGenesisDkg.ts";
