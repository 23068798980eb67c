"""The connection status a Solution Provider shows for a business (SEED-VERIFY-4, meta-lifecycle.md §8 rows
23–26): derived from the business's verification, the WABA's review and the numbers, never stored beside them.

Meta has no such field; a BSP computes it from Meta's states, and so does this. The precedence is the BSP's: a
rejection outweighs a failure, which outweighs a success.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from sandbox.domain.business import BusinessVerificationStatus
from sandbox.domain.waba import AccountReviewStatus


class ConnectionStatus(StrEnum):
    UNVERIFIED_TRIAL = "unverified_trial"
    PROCESS_FAILED = "process_failed"
    CONNECTED = "connected"
    WABA_REJECTED = "waba_rejected"


LABELS = {
    ConnectionStatus.UNVERIFIED_TRIAL: "Unverified trial experience",
    ConnectionStatus.PROCESS_FAILED: "Process failed, contact support",
    ConnectionStatus.CONNECTED: "Connected successfully",
    ConnectionStatus.WABA_REJECTED: "WhatsApp business account rejected",
}

# Row 24: the process failed when verification can no longer succeed by waiting.
_FAILED = frozenset(
    {
        BusinessVerificationStatus.FAILED,
        BusinessVerificationStatus.INELIGIBLE,
        BusinessVerificationStatus.REVOKED,
        BusinessVerificationStatus.EXPIRED,
    }
)


def connection_status(
    verification_status: str,
    review_statuses: Iterable[str],
    *,
    any_number_registered: bool,
    registration_failed: bool,
) -> ConnectionStatus:
    """Row 26: documents rejected or a WABA rejected → rejected; row 24: verification failed (or lapsed), or a
    number's registration failed → failed; row 25: verified with a registered number → connected (the extended
    trial); row 23: anything else is the unverified trial (account_mode SANDBOX)."""
    if verification_status == BusinessVerificationStatus.REJECTED or any(
        status == AccountReviewStatus.REJECTED for status in review_statuses
    ):
        return ConnectionStatus.WABA_REJECTED
    if verification_status in _FAILED or registration_failed:
        return ConnectionStatus.PROCESS_FAILED
    if verification_status == BusinessVerificationStatus.VERIFIED and any_number_registered:
        return ConnectionStatus.CONNECTED
    return ConnectionStatus.UNVERIFIED_TRIAL
