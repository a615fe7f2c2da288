// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title FROST(secp256k1, SHA-256) signature verification (RFC 9591).
/// @notice A signature is R and the scalar z; R arrives compressed (the RFC serialization) or affine
/// (see verify). The group key is kept as (x, parity).
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
    /// 48 uniform bytes reduced mod N. The readable form: `verify` computes the same in assembly (both
    /// are tested against the RFC 9591 and Zcash Foundation vectors and an independent implementation).
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

    /// @notice Verifies a signature of the message of `len` <= 32 bytes held left-aligned in `message` (the
    /// inbox signs 32-byte digests; the RFC 9591 and Zcash Foundation vectors sign 4 bytes) under the key
    /// (pkX, pkParity), which the caller has checked with isUsableKey. Three encodings are accepted:
    ///  - 96 bytes, rx || ry || z (`l1CompactSignatureBytes` of the dseq mpc-tss package): R in affine
    ///    form, so no square root; the cheapest form (ADRs 0156, 0193);
    ///  - 65 bytes, the RFC 9591 serialization: R compressed (33) || z (32); decompressing R costs a
    ///    modexp (~1,450 gas);
    ///  - 160 bytes, rx || ry || z || px || py (`l1SignatureBytes`, ADR 0084): as 96, plus the key in
    ///    affine form, which must be the current key.
    /// The check is RFC 9591 verification in every form, z*G == R + c*PK: only how R reaches the
    /// contract differs. Returns false (never reverts) on any malformed input, and for len > 32.
    /// @dev One assembly block without branches (ADR 0193): the checks of R, z and len are folded into
    /// the result instead of skipping the hashes (a refused signature costs as much as an accepted one).
    /// The SHA-256 calls' success flags are not read: that precompile fails only when out of gas, and
    /// with all gas forwarded this frame then keeps at most 1/64 of ~144 gas, far less than the ecrecover
    /// that follows, so the whole call reverts rather than go on with a stale hash. ecrecover's failure
    /// shows as no return data, which is checked.
    function verify(uint256 pkX, uint256 pkParity, bytes32 message, uint256 len, bytes calldata signature)
        internal
        view
        returns (bool ok)
    {
        uint256 rX;
        uint256 rY;
        uint256 z;
        if (signature.length == 96) {
            assembly ("memory-safe") {
                rX := calldataload(signature.offset)
                rY := calldataload(add(signature.offset, 0x20))
                z := calldataload(add(signature.offset, 0x40))
            }
            ok = true;
        } else {
            (ok, rX, rY, z) = affineR(pkX, pkParity, signature);
        }
        assembly ("memory-safe") {
            // R on the curve (both coordinates below P; infinity has no affine form), z < N, len <= 32
            let p := P
            ok := and(
                and(and(ok, lt(len, 33)), lt(z, N)),
                and(and(lt(rX, p), lt(rY, p)), eq(mulmod(rY, rY, p), addmod(mulmod(mulmod(rX, rX, p), rX, p), 7, p)))
            )
            // a refused len > 32 still writes and hashes within 63 bytes of the message's place
            len := and(len, 0x3f)
            // b0 = H(msg'), msg' = Z_pad(64) || R(33) || PK(33) || msg || I2OSP(48, 2) || I2OSP(0, 1) || DST',
            // DST' = "FROST-secp256k1-SHA256-v1chal" || 0x1d (30 bytes), in free memory at m; b0 to the
            // scratch word 0x00
            let m := mload(0x40)
            calldatacopy(m, calldatasize(), 0x40)
            mstore8(add(m, 0x40), or(2, and(rY, 1)))
            mstore(add(m, 0x41), rX)
            mstore8(add(m, 0x61), add(2, pkParity))
            mstore(add(m, 0x62), pkX)
            mstore(add(m, 0x82), message)
            let t := add(add(m, 0x82), len)
            mstore(t, 0x00300046524f53542d736563703235366b312d5348413235362d76316368616c)
            mstore8(add(t, 0x20), 0x1d)
            pop(staticcall(gas(), 0x02, m, add(len, 0xa3), 0x00, 0x20))
            // b1 = H(b0 || 0x01 || DST'), b2 = H((b0 ^ b1) || 0x02 || DST'): 63 bytes each, in the scratch
            // space 0x00-0x3f
            let b0 := mload(0x00)
            mstore(0x20, 0x0146524f53542d736563703235366b312d5348413235362d76316368616c1d00)
            pop(staticcall(gas(), 0x02, 0x00, 0x3f, 0x00, 0x20))
            let b1 := mload(0x00)
            mstore(0x00, xor(b0, b1))
            mstore(0x20, 0x0246524f53542d736563703235366b312d5348413235362d76316368616c1d00)
            pop(staticcall(gas(), 0x02, 0x00, 0x3f, 0x00, 0x20))
            let n := N
            let c := addmod(mulmod(b1, shl(128, 1), n), shr(128, mload(0x00)), n)
            // ecrecover(h = -z*PK.x, v = 27 + parity, r = PK.x, s = -c*PK.x) = address(z*G - c*PK);
            // c = 0 makes s = 0, which the precompile refuses (it then returns no data)
            mstore(m, mulmod(sub(n, z), pkX, n))
            mstore(add(m, 0x20), add(27, pkParity))
            mstore(add(m, 0x40), pkX)
            mstore(add(m, 0x60), mulmod(sub(n, c), pkX, n))
            pop(staticcall(gas(), 0x01, m, 0x80, m, 0x20))
            mstore(0x00, rX)
            mstore(0x20, rY)
            ok := and(
                and(ok, eq(returndatasize(), 0x20)),
                eq(mload(m), and(keccak256(0x00, 0x40), 0xffffffffffffffffffffffffffffffffffffffff))
            )
        }
    }

    /// @notice R in affine form and z from the 65- and 160-byte encodings of verify; ok = false for another
    /// length or a 160-byte key that is not (pkX, pkParity). R's on-curve check is verify's.
    function affineR(uint256 pkX, uint256 pkParity, bytes calldata signature)
        private
        view
        returns (bool ok, uint256 rX, uint256 rY, uint256 z)
    {
        assembly ("memory-safe") {
            let o := signature.offset
            rX := calldataload(o)
            rY := calldataload(add(o, 0x20))
            z := calldataload(add(o, 0x40))
            switch signature.length
            case 65 {
                // R = prefix || x: y from the square root rhs^((P+1)/4), P = 3 mod 4 (verify's on-curve
                // check refuses an x without a root)
                let prefix := byte(0, rX)
                rX := calldataload(add(o, 0x01))
                z := calldataload(add(o, 0x21))
                let m := mload(0x40)
                mstore(m, 0x20)
                mstore(add(m, 0x20), 0x20)
                mstore(add(m, 0x40), 0x20)
                mstore(add(m, 0x60), addmod(mulmod(mulmod(rX, rX, P), rX, P), 7, P))
                mstore(add(m, 0x80), SQRT_EXP)
                mstore(add(m, 0xa0), P)
                ok := and(staticcall(gas(), 0x05, m, 0xc0, m, 0x20), or(eq(prefix, 2), eq(prefix, 3)))
                rY := mload(m)
                if xor(and(rY, 1), and(prefix, 1)) { rY := sub(P, rY) }
            }
            case 160 {
                // (px, py) must be the current key: same x, same parity, on the curve
                let px := calldataload(add(o, 0x60))
                let py := calldataload(add(o, 0x80))
                ok := and(and(eq(px, pkX), eq(and(py, 1), pkParity)), lt(py, P))
                ok := and(ok, eq(mulmod(py, py, P), addmod(mulmod(mulmod(px, px, P), px, P), 7, P)))
            }
        }
    }

    /// @notice Whether (x, y) is an affine point of secp256k1 with both coordinates below P. The point
    /// at infinity has no affine form, so it never passes.
    function isOnCurve(uint256 x, uint256 y) internal pure returns (bool) {
        if (x >= P || y >= P) return false;
        return mulmod(y, y, P) == addmod(mulmod(mulmod(x, x, P), x, P), 7, P);
    }
}
