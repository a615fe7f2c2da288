// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {FrostVerifier} from "../FrostVerifier.sol";

/// @notice Test and benchmark entry to the FROST check alone (no storage reads), with its gas.
contract FrostVerifierHarness {
    function verify(bytes calldata groupKey, bytes calldata message, bytes calldata signature)
        external
        view
        returns (bool ok, uint256 gasUsed)
    {
        require(groupKey.length == 33, "key length");
        uint256 parity = uint8(groupKey[0]) - 2;
        uint256 pkX = uint256(bytes32(groupKey[1:33]));
        require(FrostVerifier.isUsableKey(pkX, parity), "bad key");
        // up to 32 bytes, left-aligned (a longer message is passed on so that the test sees it refused)
        bytes32 w = message.length > 32 ? bytes32(message[:32]) : bytes32(message);
        uint256 len = message.length;
        uint256 before = gasleft();
        ok = FrostVerifier.verify(pkX, parity, w, len, signature);
        gasUsed = before - gasleft();
    }

    function challenge(bytes calldata groupKey, bytes calldata message, bytes calldata signature)
        external
        pure
        returns (uint256)
    {
        return FrostVerifier.challenge(
            uint8(signature[0]), uint256(bytes32(signature[1:33])), uint256(bytes32(groupKey[1:33])), uint8(groupKey[0]) - 2, message
        );
    }
}
