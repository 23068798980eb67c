"""SEED-VERIFY-4: the provider's connection status is a function of Meta's states, with the BSP's precedence."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.domain.business import BusinessVerificationStatus as BV
from sandbox.domain.connection_status import LABELS, ConnectionStatus, connection_status
from sandbox.domain.waba import AccountReviewStatus as Review


@pytest.mark.parametrize(
    ("verification", "reviews", "registered", "failed", "expected"),
    [
        (BV.NOT_VERIFIED, [Review.PENDING], True, False, ConnectionStatus.UNVERIFIED_TRIAL),
        (BV.PENDING, [Review.PENDING], True, False, ConnectionStatus.UNVERIFIED_TRIAL),
        (BV.VERIFIED, [Review.PENDING], True, False, ConnectionStatus.CONNECTED),
        (BV.VERIFIED, [Review.APPROVED], True, False, ConnectionStatus.CONNECTED),
        (BV.VERIFIED, [Review.APPROVED], False, False, ConnectionStatus.UNVERIFIED_TRIAL),
        (BV.VERIFIED, [Review.APPROVED], True, True, ConnectionStatus.PROCESS_FAILED),
        (BV.FAILED, [Review.PENDING], True, False, ConnectionStatus.PROCESS_FAILED),
        (BV.REVOKED, [Review.APPROVED], True, False, ConnectionStatus.PROCESS_FAILED),
        (BV.REJECTED, [Review.PENDING], True, False, ConnectionStatus.WABA_REJECTED),
        (BV.VERIFIED, [Review.APPROVED, Review.REJECTED], True, False, ConnectionStatus.WABA_REJECTED),
    ],
)
def test_seed_rows_23_to_26(verification, reviews, registered, failed, expected) -> None:
    status = connection_status(verification, reviews, any_number_registered=registered, registration_failed=failed)
    assert status is expected
    assert LABELS[status]


@given(
    st.sampled_from(list(BV)),
    st.lists(st.sampled_from(list(Review)), max_size=3),
    st.booleans(),
    st.booleans(),
)
def test_a_rejection_outweighs_everything(verification, reviews, registered, failed) -> None:
    status = connection_status(verification, reviews, any_number_registered=registered, registration_failed=failed)
    rejected = verification == BV.REJECTED or Review.REJECTED in reviews
    assert (status is ConnectionStatus.WABA_REJECTED) == rejected
    if status is ConnectionStatus.CONNECTED:
        assert verification == BV.VERIFIED and registered and not failed
