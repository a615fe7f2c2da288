// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @notice Checks a FROST signature under the sequencer set's current group key.
interface IGroupSignatureVerifier {
    function verifyGroupSignature(bytes32 digest, bytes calldata signature) external view returns (bool);
}
