export { fsyncDir, writeFileAtomic } from "./atomicFile.ts";
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
