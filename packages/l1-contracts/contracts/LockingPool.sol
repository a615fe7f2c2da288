// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IGroupSignatureVerifier} from "./IGroupSignatureVerifier.sol";
import {FrostVerifier} from "./FrostVerifier.sol";

/// @title dseq locking pool
/// @notice Sequencers lock the gas token here; the L2 builds its validator set from these events.
/// Function and event names follow Metis's LockingPool/LockingInfo so operators recognise them; the
/// code is written from scratch. Amounts above maxLock are accepted: voting power and rewards are
/// capped at maxLock by the L2 (see votingPower and docs/adr/0072).
contract LockingPool is Ownable, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    enum Status {
        Inactive,
        Active,
        Unlocking,
        Unlocked
    }

    // Three slots written at lock (three fresh storage writes, not five); the fourth holds the
    // throttles and is first written by updateSigner or withdraw.
    struct Sequencer {
        address owner;
        uint96 amount; // locked tokens
        address signer;
        Status status;
        uint32 nonce; // bumped by every event about this sequencer
        uint40 unlockClaimTime; // set by unlock
        address rewardRecipient;
        uint96 reward; // checkpointed, not yet withdrawn
        uint64 signerUpdateBlock; // L1 block of the last updateSigner; 0: never (docs/adr/0076)
        uint64 withdrawPeriod; // nextCheckpointId + 1 at the last withdraw; 0: never (docs/adr/0077)
    }

    bytes32 public constant REWARDS_DOMAIN = keccak256("dseq.LockingPool.submitRewards.v1");

    IERC20 public immutable token;
    IGroupSignatureVerifier public immutable groupVerifier;

    uint256 public minLock;
    uint256 public maxLock;
    uint256 public exitDelay; // seconds between unlock and unlockClaim
    uint256 public signerUpdateThrottle; // L1 blocks between two updateSigner calls of one sequencer
    address public rewardPayer; // holds the reward tokens and approves this pool

    uint256 public sequencerCount; // ids are 1..sequencerCount
    uint256 public totalLocked;
    uint256 public nextCheckpointId; // reward checkpoints are numbered 0, 1, 2, ...
    uint256 public lastRewardBlock; // last L2 block covered by a reward checkpoint

    mapping(uint256 seqId => Sequencer) private _sequencers;
    mapping(address owner => uint256 seqId) public seqOwners;
    mapping(address signer => uint256 seqId) public seqSigners;
    mapping(address owner => bool) public whitelist;

    event Locked(
        address indexed signer,
        uint256 indexed sequencerId,
        uint256 nonce,
        address indexed owner,
        address rewardRecipient,
        uint256 amount,
        uint256 total,
        bytes signerPubkey
    );
    event LockUpdate(uint256 indexed sequencerId, uint256 nonce, uint256 newAmount, uint256 total);
    event Withdraw(uint256 indexed sequencerId, address indexed owner, uint256 amount);
    event UnlockInit(
        address indexed owner, uint256 indexed sequencerId, uint256 nonce, uint256 unlockClaimTime, uint256 amount
    );
    event Unlocked(address indexed owner, uint256 indexed sequencerId, uint256 nonce, uint256 amount, uint256 total);
    event SignerChange(
        uint256 indexed sequencerId,
        uint256 nonce,
        address indexed oldSigner,
        address indexed newSigner,
        bytes signerPubkey
    );
    event RewardRecipientChanged(uint256 indexed sequencerId, uint256 nonce, address oldRecipient, address newRecipient);
    event OwnerChanged(uint256 indexed sequencerId, uint256 nonce, address indexed oldOwner, address indexed newOwner);
    event WhitelistSet(address indexed user, bool allowed);
    event ParamsChanged(uint256 minLock, uint256 maxLock, uint256 exitDelay);
    event SetSignerUpdateThrottle(uint256 n);
    event RewardPayerChanged(address oldPayer, address newPayer);
    event RewardsSubmitted(
        uint256 indexed checkpointId, uint256 fromBlock, uint256 toBlock, uint256[] sequencerIds, uint256[] amounts, uint256 total
    );
    event RewardsWithdrawn(uint256 indexed sequencerId, address indexed recipient, uint256 amount);

    error NotWhitelisted(address user);
    error OwnerHasSequencer(address owner, uint256 sequencerId);
    error SignerInUse(address signer, uint256 sequencerId);
    error InvalidPubkey();
    error PubkeyNotOnCurve();
    error PubkeySignerMismatch(address signer, address derived);
    error InvalidAddress();
    error AmountBelowMin(uint256 amount, uint256 minLock);
    error ZeroAmount();
    error UnknownSequencer(uint256 sequencerId);
    error NotSequencerOwner(uint256 sequencerId, address caller);
    error NotActive(uint256 sequencerId, Status status);
    error NotUnlocking(uint256 sequencerId, Status status);
    error UnlockNotReady(uint256 sequencerId, uint256 unlockClaimTime);
    error InvalidParams();
    error WrongCheckpointId(uint256 expected, uint256 got);
    error WrongRewardRange(uint256 expectedFrom, uint256 fromBlock, uint256 toBlock);
    error LengthMismatch();
    error InvalidSignature();
    error NoRewards(uint256 sequencerId);
    error SignerUpdateThrottled(uint256 sequencerId, uint256 nextUpdateBlock);
    error WithdrawThrottled(uint256 sequencerId, uint256 checkpointId);

    constructor(
        address owner_,
        IERC20 token_,
        IGroupSignatureVerifier groupVerifier_,
        address rewardPayer_,
        uint256 minLock_,
        uint256 maxLock_,
        uint256 exitDelay_,
        uint256 signerUpdateThrottle_
    ) Ownable(owner_) {
        token = token_;
        groupVerifier = groupVerifier_;
        rewardPayer = rewardPayer_;
        _setParams(minLock_, maxLock_, exitDelay_);
        _setSignerUpdateThrottle(signerUpdateThrottle_);
    }

    // ------------------------------------------------------------------ sequencer owners

    /// @notice Locks `amount` from the caller (a whitelisted owner without a sequencer) for a new
    /// sequencer whose signing key is `signerPubkey`: 64 bytes (uncompressed without the 04 prefix),
    /// a point on secp256k1, hashing to `signer`.
    function lockFor(address signer, uint256 amount, bytes calldata signerPubkey)
        external
        whenNotPaused
        nonReentrant
        returns (uint256)
    {
        return _lock(signer, msg.sender, amount, signerPubkey);
    }

    /// @notice lockFor with rewards paid to `rewardRecipient` instead of the owner.
    function lockWithRewardRecipient(
        address signer,
        address rewardRecipient,
        uint256 amount,
        bytes calldata signerPubkey
    ) external whenNotPaused nonReentrant returns (uint256) {
        if (rewardRecipient == address(0)) revert InvalidAddress();
        return _lock(signer, rewardRecipient, amount, signerPubkey);
    }

    function _lock(address signer, address rewardRecipient, uint256 amount, bytes calldata signerPubkey)
        private
        returns (uint256 seqId)
    {
        if (!whitelist[msg.sender]) revert NotWhitelisted(msg.sender);
        if (seqOwners[msg.sender] != 0) revert OwnerHasSequencer(msg.sender, seqOwners[msg.sender]);
        if (amount < minLock) revert AmountBelowMin(amount, minLock);
        _checkSigner(signer, signerPubkey);
        seqId = ++sequencerCount;
        uint256 total = totalLocked + amount;
        totalLocked = total;
        // Field by field: a struct literal would also write the (zero) throttle slot, 2,200 gas.
        Sequencer storage s = _sequencers[seqId];
        s.owner = msg.sender;
        s.amount = SafeCast.toUint96(amount);
        s.signer = signer;
        s.status = Status.Active;
        s.nonce = 1;
        s.rewardRecipient = rewardRecipient;
        seqOwners[msg.sender] = seqId;
        seqSigners[signer] = seqId;
        token.safeTransferFrom(msg.sender, address(this), amount);
        emit Locked(signer, seqId, 1, msg.sender, rewardRecipient, amount, total, signerPubkey);
    }

    /// @notice Adds `amount` from the owner to an active sequencer's lock; with lockReward, also moves
    /// its unclaimed reward (paid by the reward payer) into the lock.
    function relock(uint256 seqId, uint256 amount, bool lockReward) external whenNotPaused nonReentrant {
        Sequencer storage s = _ownedActive(seqId);
        uint256 reward = lockReward ? s.reward : 0;
        if (amount + reward == 0) revert ZeroAmount();
        if (reward != 0) s.reward = 0;
        uint256 newAmount = s.amount + amount + reward;
        s.amount = SafeCast.toUint96(newAmount);
        uint256 total = totalLocked + amount + reward;
        totalLocked = total;
        uint32 nonce = ++s.nonce;
        if (amount != 0) token.safeTransferFrom(msg.sender, address(this), amount);
        if (reward != 0) token.safeTransferFrom(rewardPayer, address(this), reward);
        emit LockUpdate(seqId, nonce, newAmount, total);
    }

    /// @notice Withdraws part of an active lock to the owner; at least minLock stays locked. At most
    /// once per reward period: the next withdraw needs the checkpoint now open to be submitted.
    function withdraw(uint256 seqId, uint256 amount) external whenNotPaused nonReentrant {
        Sequencer storage s = _ownedActive(seqId);
        if (amount == 0) revert ZeroAmount();
        if (amount > s.amount || s.amount - amount < minLock) revert AmountBelowMin(s.amount - _min(amount, s.amount), minLock);
        uint256 period = nextCheckpointId + 1;
        if (s.withdrawPeriod >= period) revert WithdrawThrottled(seqId, nextCheckpointId);
        s.withdrawPeriod = uint64(period);
        uint256 newAmount = s.amount - amount;
        s.amount = uint96(newAmount);
        uint256 total = totalLocked - amount;
        totalLocked = total;
        uint32 nonce = ++s.nonce;
        token.safeTransfer(msg.sender, amount);
        emit Withdraw(seqId, msg.sender, amount);
        emit LockUpdate(seqId, nonce, newAmount, total);
    }

    /// @notice Leaves the set: starts the exit period, after which unlockClaim returns the lock.
    function unlock(uint256 seqId) external whenNotPaused {
        Sequencer storage s = _ownedActive(seqId);
        s.status = Status.Unlocking;
        uint40 claimTime = uint40(block.timestamp + exitDelay);
        s.unlockClaimTime = claimTime;
        uint32 nonce = ++s.nonce;
        emit UnlockInit(msg.sender, seqId, nonce, claimTime, s.amount);
    }

    /// @notice After the exit period: returns the locked tokens to the owner and frees the owner and
    /// signer for a new sequencer. Unwithdrawn rewards stay claimable.
    function unlockClaim(uint256 seqId) external whenNotPaused nonReentrant {
        Sequencer storage s = _owned(seqId);
        if (s.status != Status.Unlocking) revert NotUnlocking(seqId, s.status);
        if (block.timestamp < s.unlockClaimTime) revert UnlockNotReady(seqId, s.unlockClaimTime);
        uint256 amount = s.amount;
        s.amount = 0;
        s.status = Status.Unlocked;
        uint256 total = totalLocked - amount;
        totalLocked = total;
        uint32 nonce = ++s.nonce;
        delete seqOwners[s.owner];
        delete seqSigners[s.signer];
        token.safeTransfer(msg.sender, amount);
        emit Unlocked(msg.sender, seqId, nonce, amount, total);
    }

    /// @notice Replaces an active sequencer's signing key (64 bytes, a point on secp256k1). At most
    /// once per signerUpdateThrottle L1 blocks; the first update after lock is not throttled.
    function updateSigner(uint256 seqId, bytes calldata signerPubkey) external whenNotPaused {
        Sequencer storage s = _ownedActive(seqId);
        uint256 last = s.signerUpdateBlock;
        if (last != 0 && block.number < last + signerUpdateThrottle) {
            revert SignerUpdateThrottled(seqId, last + signerUpdateThrottle);
        }
        s.signerUpdateBlock = SafeCast.toUint64(block.number);
        address signer = _pubkeyToAddress(signerPubkey);
        if (seqSigners[signer] != 0) revert SignerInUse(signer, seqSigners[signer]);
        address old = s.signer;
        delete seqSigners[old];
        seqSigners[signer] = seqId;
        s.signer = signer;
        uint32 nonce = ++s.nonce;
        emit SignerChange(seqId, nonce, old, signer, signerPubkey);
    }

    function setSequencerRewardRecipient(uint256 seqId, address recipient) external whenNotPaused {
        Sequencer storage s = _owned(seqId);
        if (recipient == address(0)) revert InvalidAddress();
        address old = s.rewardRecipient;
        s.rewardRecipient = recipient;
        uint32 nonce = ++s.nonce;
        emit RewardRecipientChanged(seqId, nonce, old, recipient);
    }

    /// @notice Hands the sequencer to another whitelisted owner that has none.
    function setSequencerOwner(uint256 seqId, address newOwner) external whenNotPaused {
        Sequencer storage s = _owned(seqId);
        if (s.status == Status.Unlocked) revert NotActive(seqId, s.status);
        if (newOwner == address(0)) revert InvalidAddress();
        if (!whitelist[newOwner]) revert NotWhitelisted(newOwner);
        if (seqOwners[newOwner] != 0) revert OwnerHasSequencer(newOwner, seqOwners[newOwner]);
        delete seqOwners[msg.sender];
        seqOwners[newOwner] = seqId;
        s.owner = newOwner;
        uint32 nonce = ++s.nonce;
        emit OwnerChanged(seqId, nonce, msg.sender, newOwner);
    }

    // ------------------------------------------------------------------ rewards

    /// @notice The message the group key signs for a reward checkpoint.
    function rewardsDigest(
        uint256 checkpointId,
        uint256 fromBlock,
        uint256 toBlock,
        uint256[] calldata seqIds,
        uint256[] calldata amounts
    ) public view returns (bytes32) {
        return keccak256(
            abi.encode(REWARDS_DOMAIN, block.chainid, address(this), checkpointId, fromBlock, toBlock, seqIds, amounts)
        );
    }

    /// @notice Credits rewards for L2 blocks fromBlock..toBlock. Needs the next checkpoint id, a range
    /// that continues the last one, and the current group key's signature over rewardsDigest(...).
    function submitRewards(
        uint256 checkpointId,
        uint256 fromBlock,
        uint256 toBlock,
        uint256[] calldata seqIds,
        uint256[] calldata amounts,
        bytes calldata signature
    ) external whenNotPaused {
        if (checkpointId != nextCheckpointId) revert WrongCheckpointId(nextCheckpointId, checkpointId);
        if (fromBlock != lastRewardBlock + 1 || toBlock < fromBlock) {
            revert WrongRewardRange(lastRewardBlock + 1, fromBlock, toBlock);
        }
        if (seqIds.length != amounts.length) revert LengthMismatch();
        bytes32 digest = rewardsDigest(checkpointId, fromBlock, toBlock, seqIds, amounts);
        if (!groupVerifier.verifyGroupSignature(digest, signature)) revert InvalidSignature();
        uint256 total;
        uint256 count = sequencerCount;
        for (uint256 i = 0; i < seqIds.length; i++) {
            uint256 id = seqIds[i];
            if (id == 0 || id > count) revert UnknownSequencer(id);
            _sequencers[id].reward += SafeCast.toUint96(amounts[i]);
            total += amounts[i];
        }
        nextCheckpointId = checkpointId + 1;
        lastRewardBlock = toBlock;
        emit RewardsSubmitted(checkpointId, fromBlock, toBlock, seqIds, amounts, total);
    }

    /// @notice Pays a sequencer's checkpointed rewards to its reward recipient, from the reward payer.
    /// Callable by the owner or the recipient.
    function withdrawRewards(uint256 seqId) external whenNotPaused nonReentrant {
        Sequencer storage s = _known(seqId);
        if (msg.sender != s.owner && msg.sender != s.rewardRecipient) revert NotSequencerOwner(seqId, msg.sender);
        uint256 amount = s.reward;
        if (amount == 0) revert NoRewards(seqId);
        s.reward = 0;
        token.safeTransferFrom(rewardPayer, s.rewardRecipient, amount);
        emit RewardsWithdrawn(seqId, s.rewardRecipient, amount);
    }

    // ------------------------------------------------------------------ governance

    function setWhitelist(address user, bool allowed) external onlyOwner {
        if (user == address(0)) revert InvalidAddress();
        whitelist[user] = allowed;
        emit WhitelistSet(user, allowed);
    }

    function updateMinAmounts(uint256 minLock_) external onlyOwner {
        _setParams(minLock_, maxLock, exitDelay);
    }

    function updateMaxAmounts(uint256 maxLock_) external onlyOwner {
        _setParams(minLock, maxLock_, exitDelay);
    }

    /// @notice Exit period in seconds (21 days by default; short on devnets).
    function updateExitDelay(uint256 exitDelay_) external onlyOwner {
        _setParams(minLock, maxLock, exitDelay_);
    }

    /// @notice L1 blocks a sequencer waits between two signer updates (0: no limit; at most about a
    /// year of 12-second blocks).
    function setSignerUpdateThrottle(uint256 n) external onlyOwner {
        _setSignerUpdateThrottle(n);
    }

    function setRewardPayer(address payer) external onlyOwner {
        if (payer == address(0)) revert InvalidAddress();
        emit RewardPayerChanged(rewardPayer, payer);
        rewardPayer = payer;
    }

    function pause() external onlyOwner {
        _pause();
    }

    function unpause() external onlyOwner {
        _unpause();
    }

    function _setParams(uint256 minLock_, uint256 maxLock_, uint256 exitDelay_) private {
        if (minLock_ == 0 || maxLock_ < minLock_ || exitDelay_ > 365 days) revert InvalidParams();
        minLock = minLock_;
        maxLock = maxLock_;
        exitDelay = exitDelay_;
        emit ParamsChanged(minLock_, maxLock_, exitDelay_);
    }

    function _setSignerUpdateThrottle(uint256 n) private {
        if (n > 2_628_000) revert InvalidParams();
        signerUpdateThrottle = n;
        emit SetSignerUpdateThrottle(n);
    }

    // ------------------------------------------------------------------ views

    function getSequencer(uint256 seqId) external view returns (Sequencer memory) {
        return _sequencers[seqId];
    }

    /// @notice Stake that counts for voting power and rewards: the lock capped at maxLock, 0 unless active.
    function votingPower(uint256 seqId) external view returns (uint256) {
        Sequencer storage s = _sequencers[seqId];
        if (s.status != Status.Active) return 0;
        return _min(s.amount, maxLock);
    }

    // ------------------------------------------------------------------ internals

    function _known(uint256 seqId) private view returns (Sequencer storage s) {
        if (seqId == 0 || seqId > sequencerCount) revert UnknownSequencer(seqId);
        s = _sequencers[seqId];
    }

    function _owned(uint256 seqId) private view returns (Sequencer storage s) {
        s = _known(seqId);
        if (s.owner != msg.sender) revert NotSequencerOwner(seqId, msg.sender);
    }

    function _ownedActive(uint256 seqId) private view returns (Sequencer storage s) {
        s = _owned(seqId);
        if (s.status != Status.Active) revert NotActive(seqId, s.status);
    }

    function _checkSigner(address signer, bytes calldata signerPubkey) private view {
        if (signer == address(0)) revert InvalidAddress();
        address derived = _pubkeyToAddress(signerPubkey);
        if (derived != signer) revert PubkeySignerMismatch(signer, derived);
        if (seqSigners[signer] != 0) revert SignerInUse(signer, seqSigners[signer]);
    }

    /// @dev The address of a 64-byte public key that is a point on secp256k1: a key off the curve has
    /// no private key, so a sequencer locked with it could never sign (docs/adr/0078).
    function _pubkeyToAddress(bytes calldata pubkey) private pure returns (address) {
        if (pubkey.length != 64) revert InvalidPubkey();
        if (!FrostVerifier.isOnCurve(uint256(bytes32(pubkey[0:32])), uint256(bytes32(pubkey[32:64])))) {
            revert PubkeyNotOnCurve();
        }
        return address(uint160(uint256(keccak256(pubkey))));
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
