// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BpsMath} from "contracts/libraries/BpsMath.sol";

/// @notice SMTChecker harness for BpsMath.deviationExceeds (real library code, no model).
/// Domain from the library's NatSpec: prices up to 1e24, limits up to 1e4 bps.
contract BpsMathProps {
    uint256 internal constant MAX_PRICE = 1e24;
    uint256 internal constant MAX_BPS = 1e4;

    /// deviationExceeds does not overflow anywhere in the documented domain.
    function noOverflowInDomain(uint256 referenceValue, uint256 value, uint256 limitBps) public pure {
        require(referenceValue <= MAX_PRICE && value <= MAX_PRICE && limitBps <= MAX_BPS);
        BpsMath.deviationExceeds(referenceValue, value, limitBps);
    }

    /// A value equal to the reference never exceeds any limit.
    function equalNeverExceeds(uint256 referenceValue, uint256 limitBps) public pure {
        require(referenceValue <= MAX_PRICE && limitBps <= MAX_BPS);
        assert(!BpsMath.deviationExceeds(referenceValue, referenceValue, limitBps));
    }

    /// Up and down moves of the same size are judged alike.
    function symmetric(uint256 referenceValue, uint256 move, uint256 limitBps) public pure {
        require(referenceValue <= MAX_PRICE && move <= referenceValue && limitBps <= MAX_BPS);
        assert(
            BpsMath.deviationExceeds(referenceValue, referenceValue + move, limitBps) ==
                BpsMath.deviationExceeds(referenceValue, referenceValue - move, limitBps)
        );
    }

    /// Exactness: a move of exactly limitBps is within the limit; one unit more is not.
    function exactLimitBoundary(uint256 referenceValue, uint256 limitBps) public pure {
        require(referenceValue <= MAX_PRICE && limitBps <= MAX_BPS);
        require((referenceValue * limitBps) % MAX_BPS == 0);
        uint256 move = (referenceValue * limitBps) / MAX_BPS;
        assert(!BpsMath.deviationExceeds(referenceValue, referenceValue + move, limitBps));
        assert(BpsMath.deviationExceeds(referenceValue, referenceValue + move + 1, limitBps));
        assert(!BpsMath.deviationExceeds(referenceValue, referenceValue - move, limitBps));
    }

    /// A move that exceeds a limit also exceeds every smaller limit.
    function monotoneInLimit(uint256 referenceValue, uint256 value, uint256 lowBps, uint256 highBps) public pure {
        require(referenceValue <= MAX_PRICE && value <= MAX_PRICE && lowBps <= highBps && highBps <= MAX_BPS);
        if (BpsMath.deviationExceeds(referenceValue, value, highBps)) {
            assert(BpsMath.deviationExceeds(referenceValue, value, lowBps));
        }
    }

    /// Against a zero reference every non-zero value exceeds, and zero does not.
    function zeroReference(uint256 value, uint256 limitBps) public pure {
        require(value <= MAX_PRICE && limitBps <= MAX_BPS);
        assert(BpsMath.deviationExceeds(0, value, limitBps) == (value > 0));
    }

    // Reachability witness (scripts/verify-smt.ts expects its assertion to be VIOLATED): shows the documented
    // domain is satisfiable and the exceeding branch reachable, so the proofs above are not vacuous.
    function reachExceeds(uint256 referenceValue, uint256 value, uint256 limitBps) public pure {
        require(referenceValue <= MAX_PRICE && value <= MAX_PRICE && limitBps <= MAX_BPS);
        assert(!BpsMath.deviationExceeds(referenceValue, value, limitBps));
    }
}
