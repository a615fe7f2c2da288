// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {FrostVerifier} from "./FrostVerifier.sol";
import {IGroupSignatureVerifier} from "./IGroupSignatureVerifier.sol";

/// @title dseq batch inbox
/// @notice Accepts the next L2 batch when the current sequencer set's FROST group key signed its header.
/// Any account may send it. The group key is set once at deployment and afterwards only rotated under
/// a signature of the current key.
contract BatchInbox is IGroupSignatureVerifier {
    /// Where the batch data lives; part of the signed header.
    uint8 public constant DATA_CALLDATA = 0;
    uint8 public constant DATA_BLOBS = 1;

    /// Domain tags of the three messages the group key signs (see batchDigest and rotationDigest).
    bytes32 public constant BATCH_DOMAIN = keccak256("dseq.BatchInbox.batch.v1");
    bytes32 public constant ROTATION_DOMAIN = keccak256("dseq.BatchInbox.rotateGroupKey.v1");

    struct BatchHeader {
        uint64 chainId; // L2 chain id
        uint64 batchIndex; // 1, 2, 3, ...
        bytes32 prevBatchHash; // batchHash of batchIndex - 1, zero for the first batch
        uint64 firstBlock; // L2 block range, inclusive; contiguous across batches
        uint64 lastBlock;
        bytes32 lastBlockHash;
        bytes32 stateRoot; // post-state root of lastBlock
        uint8 dataKind; // DATA_CALLDATA or DATA_BLOBS
        bytes32 dataHash; // keccak256(data), or keccak256(concat of the blob versioned hashes)
    }

    uint256 public immutable l2ChainId;

    uint256 private _groupKeyX;
    // One slot, written by every append: the batch chain tip and the key's parity and epoch.
    uint64 private _lastBatchIndex;
    uint64 private _lastL2Block;
    uint64 private _groupKeyEpoch;
    uint8 private _groupKeyParity;
    bytes32 private _lastBatchHash;
    bytes32 private _lastStateRoot;

    event BatchAppended(
        uint64 indexed batchIndex,
        bytes32 indexed batchHash,
        bytes32 prevBatchHash,
        uint64 firstBlock,
        uint64 lastBlock,
        bytes32 lastBlockHash,
        bytes32 stateRoot,
        uint8 dataKind,
        bytes32 dataHash,
        address submitter
    );
    event GroupKeyRotated(uint64 indexed epoch, bytes oldKey, bytes newKey);

    error InvalidGroupKey();
    error WrongChainId(uint256 expected, uint256 got);
    error WrongBatchIndex(uint64 expected, uint64 got);
    error WrongPrevBatchHash(bytes32 expected, bytes32 got);
    error WrongBlockRange(uint64 expectedFirst, uint64 first, uint64 last);
    error WrongDataKind(uint8 expected, uint8 got);
    error DataHashMismatch(bytes32 expected, bytes32 got);
    error NoBlobs();
    error InvalidSignature();

    /// @param initialGroupKey the initial FROST group key, 33-byte SEC1 compressed
    /// @param genesisStateRoot the L2 genesis state root, reported until the first batch lands
    constructor(uint256 l2ChainId_, bytes memory initialGroupKey, bytes32 genesisStateRoot) {
        l2ChainId = l2ChainId_;
        _setGroupKey(initialGroupKey);
        _lastStateRoot = genesisStateRoot;
        emit GroupKeyRotated(0, "", initialGroupKey);
    }

    // ------------------------------------------------------------------ batches

    /// @notice Appends a calldata batch: header.dataHash must be keccak256(data).
    function appendBatch(BatchHeader calldata header, bytes calldata data, bytes calldata signature) external {
        if (header.dataKind != DATA_CALLDATA) revert WrongDataKind(DATA_CALLDATA, header.dataKind);
        bytes32 h = keccak256(data);
        if (h != header.dataHash) revert DataHashMismatch(header.dataHash, h);
        _append(header, signature);
    }

    /// @notice Appends a blob batch (EIP-4844): header.dataHash must be the keccak256 of this
    /// transaction's blob versioned hashes, concatenated in order.
    function appendBatchBlobs(BatchHeader calldata header, bytes calldata signature) external {
        if (header.dataKind != DATA_BLOBS) revert WrongDataKind(DATA_BLOBS, header.dataKind);
        bytes32 h = blobHashesDigest();
        if (h != header.dataHash) revert DataHashMismatch(header.dataHash, h);
        _append(header, signature);
    }

    /// @notice keccak256 over blobhash(0), blobhash(1), ... of the current transaction.
    function blobHashesDigest() public view returns (bytes32 h) {
        uint256 n;
        assembly ("memory-safe") {
            let m := mload(0x40)
            for {} 1 { n := add(n, 1) } {
                let v := blobhash(n)
                if iszero(v) { break }
                mstore(add(m, mul(n, 0x20)), v)
            }
            h := keccak256(m, mul(n, 0x20))
        }
        if (n == 0) revert NoBlobs();
    }

    function _append(BatchHeader calldata header, bytes calldata signature) private {
        if (header.chainId != l2ChainId) revert WrongChainId(l2ChainId, header.chainId);
        uint64 index = _lastBatchIndex + 1;
        if (header.batchIndex != index) revert WrongBatchIndex(index, header.batchIndex);
        if (header.prevBatchHash != _lastBatchHash) revert WrongPrevBatchHash(_lastBatchHash, header.prevBatchHash);
        uint64 first = _lastL2Block + 1;
        if (header.firstBlock != first || header.lastBlock < header.firstBlock) {
            revert WrongBlockRange(first, header.firstBlock, header.lastBlock);
        }
        bytes32 bh = batchHash(header);
        if (!_verify(batchDigest(bh), signature)) revert InvalidSignature();
        _lastBatchIndex = index;
        _lastL2Block = header.lastBlock;
        _lastBatchHash = bh;
        _lastStateRoot = header.stateRoot;
        emit BatchAppended(
            index,
            bh,
            header.prevBatchHash,
            header.firstBlock,
            header.lastBlock,
            header.lastBlockHash,
            header.stateRoot,
            header.dataKind,
            header.dataHash,
            msg.sender
        );
    }

    /// @notice The hash that chains batches: keccak256(abi.encode(header)).
    function batchHash(BatchHeader calldata header) public pure returns (bytes32) {
        return keccak256(abi.encode(header));
    }

    /// @notice The 32-byte message the group key signs for a batch.
    function batchDigest(bytes32 batchHash_) public view returns (bytes32) {
        return keccak256(abi.encode(BATCH_DOMAIN, block.chainid, address(this), batchHash_));
    }

    // ------------------------------------------------------------------ group key

    /// @notice Replaces the group key; `signature` is by the current key over rotationDigest(newKey).
    function rotateGroupKey(bytes calldata newKey, bytes calldata signature) external {
        if (!_verify(rotationDigest(newKey), signature)) revert InvalidSignature();
        bytes memory oldKey = groupKey();
        _setGroupKey(newKey);
        uint64 epoch = _groupKeyEpoch + 1;
        _groupKeyEpoch = epoch;
        emit GroupKeyRotated(epoch, oldKey, newKey);
    }

    /// @notice The message the current key signs to hand over to newKey; bound to the current epoch so
    /// an old rotation cannot be replayed.
    function rotationDigest(bytes calldata newKey) public view returns (bytes32) {
        return keccak256(abi.encode(ROTATION_DOMAIN, block.chainid, address(this), _groupKeyEpoch, newKey));
    }

    /// @inheritdoc IGroupSignatureVerifier
    function verifyGroupSignature(bytes32 digest, bytes calldata signature) external view returns (bool) {
        return _verify(digest, signature);
    }

    function _verify(bytes32 digest, bytes calldata signature) private view returns (bool) {
        return FrostVerifier.verify(_groupKeyX, _groupKeyParity, digest, 32, signature);
    }

    function _setGroupKey(bytes memory key) private {
        if (key.length != 33) revert InvalidGroupKey();
        uint256 prefix = uint8(key[0]);
        uint256 x;
        assembly ("memory-safe") {
            x := mload(add(key, 0x21))
        }
        if (prefix < 2 || !FrostVerifier.isUsableKey(x, prefix - 2)) revert InvalidGroupKey();
        _groupKeyX = x;
        _groupKeyParity = uint8(prefix - 2);
    }

    // ------------------------------------------------------------------ views

    /// @notice The current group key, 33-byte SEC1 compressed.
    function groupKey() public view returns (bytes memory) {
        return abi.encodePacked(uint8(2 + _groupKeyParity), _groupKeyX);
    }

    /// @notice How many rotations happened since deployment.
    function groupKeyEpoch() external view returns (uint64) {
        return _groupKeyEpoch;
    }

    /// @notice Index of the last accepted batch; 0 before the first.
    function lastBatchIndex() external view returns (uint64) {
        return _lastBatchIndex;
    }

    function lastBatchHash() external view returns (bytes32) {
        return _lastBatchHash;
    }

    /// @notice State root after the last accepted batch (the genesis root before the first).
    function lastStateRoot() external view returns (bytes32) {
        return _lastStateRoot;
    }

    /// @notice Last L2 block covered by an accepted batch; 0 before the first.
    function lastL2Block() external view returns (uint64) {
        return _lastL2Block;
    }
}
