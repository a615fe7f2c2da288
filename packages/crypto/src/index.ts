export {
  type CryptoBackendInfo,
  cryptoBackend,
  keccak256,
  logCryptoBackend,
  nobleKeccak256,
  nobleSecp256k1,
  type Secp256k1Backend,
  secp256k1,
} from "./backend.ts";
export { CryptoError, CryptoErrorCode } from "./errors.ts";
export {
  createEthereumCrypto,
  type EthereumCustomCrypto,
  privateKeyToAddress,
  publicKeyToAddress,
  recoveryFromV,
} from "./ethereum.ts";
