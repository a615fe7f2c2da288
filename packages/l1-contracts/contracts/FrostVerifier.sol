// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title FROST(secp256k1, SHA-256) signature verification (RFC 9591).
/// @notice A signature is the RFC serialization: R as a 33-byte SEC1 compressed point, then z as a
/// 32-byte big-endian scalar (65 bytes). The group key is kept as (x, parity).
/// @dev z*G == R + c*PK is checked with one ecrecover call: ecrecover(h, v, r, s) returns the address of
/// r^-1 * (s*P - h*G) where P is the point with x = r and y parity v - 27. With P = PK, r = PK.x,
/// s = -c*PK.x and h = -z*PK.x, the recovered point is z*G - c*PK, which must equal R.
library FrostVerifier {
    /// secp256k1 group order.
    uint256 internal constant N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    /// secp256k1 field prime.
    uint256 internal constant P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F;
    /// (P + 1) / 4: the square-root exponent, valid because P = 3 mod 4.
    uint256 private constant SQRT_EXP = 0x3fffffffffffffffffffffffffffffffffffffffffffffffffffffffbfffff0c;
    /// DST' = "FROST-secp256k1-SHA256-v1" || "chal" || I2OSP(len, 1) for expand_message_xmd.
    bytes30 private constant DST_PRIME = "FROST-secp256k1-SHA256-v1chal\x1d";

    /// @notice The y coordinate of a SEC1 compressed point, or ok = false when it is not on the curve.
    function decompress(uint256 prefix, uint256 x) internal view returns (uint256 y, bool ok) {
        if ((prefix != 2 && prefix != 3) || x >= P) return (0, false);
        uint256 rhs = addmod(mulmod(mulmod(x, x, P), x, P), 7, P);
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 0x20)
            mstore(add(m, 0x20), 0x20)
            mstore(add(m, 0x40), 0x20)
            mstore(add(m, 0x60), rhs)
            mstore(add(m, 0x80), SQRT_EXP)
            mstore(add(m, 0xa0), P)
            if iszero(staticcall(gas(), 0x05, m, 0xc0, m, 0x20)) { revert(0, 0) }
            y := mload(m)
        }
        if (mulmod(y, y, P) != rhs) return (0, false);
        if (y & 1 != prefix & 1) y = P - y;
        return (y, true);
    }

    /// @notice Whether (x, parity) can serve as a group key here: on the curve and x < N (ecrecover
    /// takes PK.x as its r argument). A random key fails the second check with probability ~2^-128.
    function isUsableKey(uint256 x, uint256 parity) internal view returns (bool) {
        if (x == 0 || x >= N || parity > 1) return false;
        (, bool ok) = decompress(2 + parity, x);
        return ok;
    }

    /// @notice RFC 9591 challenge c = H2(R || PK || msg): hash_to_field with expand_message_xmd(SHA-256),
    /// 48 uniform bytes reduced mod N.
    function challenge(uint256 rPrefix, uint256 rX, uint256 pkX, uint256 pkParity, bytes memory message)
        internal
        pure
        returns (uint256 c)
    {
        // msg' = Z_pad(64) || R(33) || PK(33) || msg || I2OSP(48, 2) || I2OSP(0, 1) || DST'
        bytes32 b0 = sha256(
            abi.encodePacked(
                bytes32(0), bytes32(0), uint8(rPrefix), rX, uint8(2 + pkParity), pkX, message, uint24(48 << 8), DST_PRIME
            )
        );
        bytes32 b1 = sha256(abi.encodePacked(b0, uint8(1), DST_PRIME));
        bytes32 b2 = sha256(abi.encodePacked(b0 ^ b1, uint8(2), DST_PRIME));
        c = addmod(mulmod(uint256(b1), 1 << 128, N), uint256(b2) >> 128, N);
    }

    /// @notice Verifies a signature of `message` under the key (pkX, pkParity), which the caller has
    /// checked with isUsableKey. Two encodings are accepted:
    ///  - 65 bytes, the RFC 9591 serialization: R compressed (33) || z (32);
    ///  - 160 bytes, five words rx || ry || z || px || py (`l1SignatureBytes` of the dseq mpc-tss package): R and
    ///    the key in affine form, which saves decompressing R; (px, py) must be the current key.
    /// Returns false (never reverts) on any malformed input.
    function verify(uint256 pkX, uint256 pkParity, bytes memory message, bytes memory signature)
        internal
        view
        returns (bool)
    {
        uint256 rX;
        uint256 rY;
        uint256 z;
        if (signature.length == 65) {
            uint256 rPrefix;
            assembly ("memory-safe") {
                rPrefix := byte(0, mload(add(signature, 0x20)))
                rX := mload(add(signature, 0x21))
                z := mload(add(signature, 0x41))
            }
            bool ok;
            (rY, ok) = decompress(rPrefix, rX);
            if (!ok) return false;
        } else if (signature.length == 160) {
            uint256 px;
            uint256 py;
            assembly ("memory-safe") {
                rX := mload(add(signature, 0x20))
                rY := mload(add(signature, 0x40))
                z := mload(add(signature, 0x60))
                px := mload(add(signature, 0x80))
                py := mload(add(signature, 0xa0))
            }
            if (px != pkX || py & 1 != pkParity || !isOnCurve(px, py) || !isOnCurve(rX, rY)) return false;
        } else {
            return false;
        }
        return verifyPoints(pkX, pkParity, rX, rY, z, message);
    }

    /// @notice Whether (x, y) is an affine point of secp256k1 with both coordinates below P.
    function isOnCurve(uint256 x, uint256 y) internal pure returns (bool) {
        if (x >= P || y >= P) return false;
        return mulmod(y, y, P) == addmod(mulmod(mulmod(x, x, P), x, P), 7, P);
    }

    /// @notice z*G == R + c*PK for an on-curve R = (rX, rY), with one ecrecover.
    function verifyPoints(uint256 pkX, uint256 pkParity, uint256 rX, uint256 rY, uint256 z, bytes memory message)
        internal
        pure
        returns (bool)
    {
        if (z >= N) return false;
        uint256 c = challenge(2 + (rY & 1), rX, pkX, pkParity, message);
        if (c == 0) return false;
        address expected = address(uint160(uint256(keccak256(abi.encodePacked(rX, rY)))));
        uint256 h = mulmod(N - z, pkX, N);
        uint256 s = mulmod(N - c, pkX, N);
        address recovered = ecrecover(bytes32(h), uint8(27 + pkParity), bytes32(pkX), bytes32(s));
        return recovered != address(0) && recovered == expected;
    }
}
