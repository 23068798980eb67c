"""A tenant's policy: every knob of simulated behaviour, grouped by the lifecycle it steers, defaults visible.

Each group is a dataclass of knobs declared with domain/knobs.py; `Policy` holds one field per group. Validation,
snapshots, the knob catalogue and docs/policy.md all loop over the groups, so a new lifecycle's knobs are one
dataclass and one `Policy` field.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from functools import cache
from typing import Any, Literal

from sandbox.domain.errors import Invalid
from sandbox.domain.knobs import DAY, KNOB, Knob, choice, flag, integer, levels, number, seconds_list, span
from sandbox.domain.media import MB, MEDIA_MAX_BYTES
from sandbox.domain.messaging_limit import TIER_SIZES
from sandbox.domain.phone_number import THROUGHPUT_MPS, NameRejectionReason
from sandbox.domain.pricing import PricingModel
from sandbox.domain.quality import QualityRule
from sandbox.domain.template_review import Recategorisation, RejectionReason

Progression = Literal["immediate", "scheduled", "manual"]
Overflow = Literal["drop_oldest", "drop_newest"]
# Meta does not say how a send over the messaging limit fails; community posts attribute all three to it.
LimitFailureCode = Literal["131048", "131049", "131056"]
ReviewOutcome = Literal["approve", "defer", "fail", "need_more_info"]
NameDecision = Literal["APPROVED", "REJECTED"]

MAX_SECONDS = 30 * DAY


@dataclass(slots=True)
class Messages:
    """How an accepted message moves on to sent, delivered and read, and how customers read."""

    progression: Progression = choice(
        Progression,
        "scheduled",
        description="immediate: every status at once; scheduled: after the delays below; manual: sent, then by hand",
    )
    sent_delay: list[float] = span([0.05, 0.3], high=MAX_SECONDS, description="accepted → sent, drawn uniformly")
    delivered_delay: list[float] = span([0.2, 1.5], high=MAX_SECONDS, description="sent → delivered, drawn uniformly")
    read_delay: list[float] = span([1.0, 15.0], high=MAX_SECONDS, description="delivered → read, drawn uniformly")
    slow_delivery_seconds: float = number(
        600.0, low=0, high=MAX_SECONDS, unit="seconds", description="sent → delivered for a slow customer (15550100004)"
    )
    read_probability: float = number(1.0, low=0, high=1, description="chance that a delivered message is read")


@dataclass(slots=True)
class Limits:
    """Meta's limits (docs/limits-and-faults.md): throughput per number, the pair rate, hourly management calls."""

    throughput_mps: dict[str, int] = levels(
        THROUGHPUT_MPS, low=1, high=100_000, unit="messages/second", description="send rate of a number by level"
    )
    throughput_catch_up_seconds: float = number(
        0.1,
        low=0,
        high=1,
        below=True,
        unit="seconds",
        description="a slot taken this soon after falling free keeps its one-second cycle",
    )
    throughput_counts_inbound: bool = flag(True, description="an inbound message takes a free slot of its number")
    pair_rate_burst: int = integer(
        45, low=1, high=1_000_000, unit="messages", description="pair-rate bucket per (number, user): its size"
    )
    pair_rate_refill_seconds: float = number(
        6.0, low=0, high=MAX_SECONDS, unit="seconds", description="pair-rate bucket: one token back every so often"
    )
    app_calls_per_hour: int = integer(
        10_000, low=1, high=10_000_000, unit="calls/hour", description="management calls per rolling hour per app"
    )
    waba_calls_per_hour: int = integer(
        200, low=1, high=10_000_000, unit="calls/hour", description="management calls per rolling hour per WABA"
    )
    active_waba_calls_per_hour: int = integer(
        5_000,
        low=1,
        high=10_000_000,
        unit="calls/hour",
        description="the same, for a WABA with a registered number",
    )
    media_max_bytes: dict[str, int] = levels(
        MEDIA_MAX_BYTES, low=1, high=100 * MB, unit="bytes", description="largest upload of each media kind"
    )


@dataclass(slots=True)
class Webhooks:
    """How deliveries to the tenant's receiver are retried, bounded and disturbed (docs/webhooks.md)."""

    retry_seconds: list[float] = seconds_list(
        [0, 60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600],
        high=7 * DAY,
        max_items=50,
        description="gap before each retry; the last gap repeats",
        alias="webhook_retry_seconds",
    )
    retry_horizon_seconds: float = number(
        7 * DAY,
        low=0,
        high=MAX_SECONDS,
        unit="seconds",
        description="no retry later than this after the delivery was created",
        alias="webhook_retry_horizon_seconds",
    )
    timeout_seconds: float = number(
        5.0,
        low=0,
        high=600,
        unit="seconds",
        description="wait for the receiver's answer",
        alias="webhook_timeout_seconds",
    )
    # A dead receiver cannot grow memory without limit: past this many undelivered deliveries per tenant the
    # oldest (or the newest) is dropped and counted.
    queue_limit: int = integer(
        10_000,
        low=1,
        high=1_000_000,
        unit="deliveries",
        description="undelivered deliveries a tenant holds at most",
        alias="webhook_queue_limit",
    )
    overflow: Overflow = choice(
        Overflow, "drop_oldest", description="which delivery a full queue drops", alias="webhook_overflow"
    )
    # Chaos a receiver must survive; all off by default, every draw from the tenant's seeded generator.
    duplicate_probability: float = number(
        0.0, low=0, high=1, description="chance a delivery is sent twice", alias="webhook_duplicate_probability"
    )
    reorder_probability: float = number(
        0.0, low=0, high=1, description="chance a delivery is held back", alias="webhook_reorder_probability"
    )
    reorder_hold_seconds: float = number(
        2.0,
        low=0,
        high=MAX_SECONDS,
        unit="seconds",
        description="how long a held-back delivery waits",
        alias="webhook_reorder_hold_seconds",
    )
    batch_max: int = integer(
        1,
        low=1,
        high=1_000,
        unit="changes",
        description="changes per delivery (1: no batching)",
        alias="webhook_batch_max",
    )
    batch_window_seconds: float = number(
        1.0,
        low=0,
        high=MAX_SECONDS,
        unit="seconds",
        description="how long a batch waits to fill",
        alias="webhook_batch_window_seconds",
    )
    delivery_delay: list[float] = span(
        [0.0, 0.0],
        high=MAX_SECONDS,
        description="extra delay before a delivery, drawn uniformly",
        alias="webhook_delivery_delay",
    )
    bad_signature_probability: float = number(
        0.0,
        low=0,
        high=1,
        description="chance a delivery carries a wrong X-Hub-Signature-256",
        alias="webhook_bad_signature_probability",
    )


@dataclass(slots=True)
class Journal:
    """How many entries each journal keeps (ring buffers, so a long run cannot exhaust memory)."""

    requests: int = integer(
        10_000, low=1, high=1_000_000, unit="entries", description="Graph calls kept", alias="journal_requests"
    )
    messages: int = integer(
        100_000, low=1, high=1_000_000, unit="entries", description="messages kept", alias="journal_messages"
    )
    webhooks: int = integer(
        10_000, low=1, high=1_000_000, unit="entries", description="webhook deliveries kept", alias="journal_webhooks"
    )
    customers: int = integer(
        100_000,
        low=1,
        high=10_000_000,
        unit="customers",
        description="customers kept; beyond, the least recently contacted not in an open window are forgotten",
    )
    media_bytes: int = integer(
        256 * MB,
        low=0,
        high=4096 * MB,
        unit="bytes",
        description="bytes of uploaded media kept; an upload beyond fails",
    )
    media_objects: int = integer(
        10_000, low=1, high=1_000_000, unit="objects", description="media objects kept; an upload beyond fails"
    )


@dataclass(slots=True)
class Trial:
    """The unverified trial (SEED-TRIAL-1..6): on for the `trial` profile, switchable on any tenant."""

    enabled: bool = flag(
        False, description="enforce the trial's limits on sends (the trial profile turns it on)", alias="trial_enabled"
    )
    recipients: int = integer(
        2,
        low=0,
        high=1_000_000,
        unit="recipients",
        description="distinct recipients of business-initiated messages",
        alias="trial_recipients",
    )
    customers: int = integer(
        10,
        low=0,
        high=1_000_000,
        unit="customers",
        description="distinct customers answered inside their window",
        alias="trial_customers",
    )
    days: int = integer(
        30, low=1, high=3650, unit="days", description="trial length on the tenant clock", alias="trial_days"
    )
    verified_customers: int = integer(
        1_500,
        low=0,
        high=1_000_000,
        unit="customers",
        description="distinct customers answered once the business is verified (the extended trial)",
        alias="trial_verified_customers",
    )
    max_numbers_unverified: int = integer(
        2,
        low=1,
        high=1_000,
        unit="numbers",
        description="registered numbers an unverified business may hold",
        alias="trial_max_numbers_unverified",
    )


@dataclass(slots=True)
class Verification:
    """Business verification (SEED-VERIFY-1, -3): how long Meta's review takes, how it ends, when to resubmit."""

    # Landbot: "10 minutes to 14 working days", with a long right tail: a lognormal, clipped.
    latency_median_seconds: float = number(
        2 * DAY,
        low=1,
        high=MAX_SECONDS,
        unit="seconds",
        description="median of the review's latency (lognormal)",
        alias="verification_latency_median_seconds",
    )
    latency_sigma: float = number(
        1.0, low=0, high=5, description="sigma of the lognormal latency", alias="verification_latency_sigma"
    )
    latency_bounds: list[float] = span(
        [600.0, 20 * DAY],
        high=MAX_SECONDS,
        description="the drawn latency is clipped to [min, max]",
        alias="verification_latency_bounds",
    )
    approval_probability: float = number(
        0.8,
        low=0,
        high=1,
        description="chance a submission is approved (else rejected, with one of Meta's reasons)",
        alias="verification_approval_probability",
    )
    resubmit_after_days: int = integer(
        35,
        low=0,
        high=365,
        unit="days",
        description="after a rejection, days from the previous submission until the next is accepted",
        alias="verification_resubmit_after_days",
    )


@dataclass(slots=True)
class Numbers:
    """Onboarding a number (SEED-NUMBER-1..3, meta-lifecycle.md §2.1-§2.7): the app-account delay, the cap after
    verification, the OTP's life and throttling, and the register/deregister limit. Meta documents the delay, the
    cap, the 14 days and the 10 calls in 72 hours; the OTP's numbers are the sandbox's choice
    (docs/phone-numbers.md)."""

    app_deletion_delay_seconds: float = number(
        180.0,
        low=0,
        high=DAY,
        unit="seconds",
        description="a number deleted from the WhatsApp app can be added this long after (SEED-NUMBER-2)",
    )
    max_numbers_verified: int = integer(
        20, low=1, high=10_000, unit="numbers", description="numbers a verified business may hold (§3.1)"
    )
    code_ttl_seconds: float = number(
        600.0, low=1, high=DAY, unit="seconds", description="how long a code sent by request_code can be entered"
    )
    code_resend_seconds: float = number(
        60.0, low=0, high=DAY, unit="seconds", description="request_code again no sooner than this after the last"
    )
    code_requests: int = integer(
        5, low=1, high=1_000, unit="requests", description="request_code calls per number in the request window"
    )
    code_request_window_seconds: float = number(
        12 * 3600.0, low=1, high=MAX_SECONDS, unit="seconds", description="the rolling window of code_requests"
    )
    code_attempts: int = integer(
        5, low=1, high=1_000, unit="attempts", description="wrong verify_code guesses before a code is void"
    )
    migration_template_copy_seconds: float = number(
        600.0,
        low=0,
        high=DAY,
        unit="seconds",
        description="after a migrated number registers, its templates reach the destination this much later (§5.1)",
    )
    verification_days: int = integer(
        14, low=1, high=3650, unit="days", description="a VERIFIED number not registered by then is EXPIRED"
    )
    register_calls: int = integer(
        10, low=1, high=10_000, unit="calls", description="register and deregister calls per number per window"
    )
    register_window_seconds: float = number(
        72 * 3600.0, low=1, high=MAX_SECONDS, unit="seconds", description="the rolling window of register_calls"
    )


@dataclass(slots=True)
class WabaReview:
    """The WABA's policy review (SEED-VERIFY-2) and the appeal of a rejection."""

    latency: list[float] = span(
        [3600.0, DAY],
        high=MAX_SECONDS,
        description="submission → decision, drawn uniformly",
        alias="waba_review_latency",
    )
    approval_probability: float = number(
        0.95, low=0, high=1, description="chance the WABA is approved", alias="waba_review_approval_probability"
    )
    appeal_latency: list[float] = span(
        [DAY, 2 * DAY],
        high=MAX_SECONDS,
        description="appeal → decision, drawn uniformly (Wati: 24-48 h)",
        alias="waba_appeal_latency",
    )
    appeal_acceptance_probability: float = number(
        0.5, low=0, high=1, description="chance an appeal is accepted", alias="waba_appeal_acceptance_probability"
    )


@dataclass(slots=True)
class MessagingLimits:
    """The portfolio's messaging limit and its scaling (docs/messaging-limits.md, meta-lifecycle.md §3.6)."""

    enabled: bool = flag(
        True,
        description="fail business-initiated sends beyond the portfolio's unique users per moving 24 h",
        alias="messaging_limit_enabled",
    )
    tier_sizes: dict[str, int] = levels(
        TIER_SIZES,
        low=1,
        high=10_000_000,
        unit="users",
        description="unique users outside windows per moving 24 h, by tier (TIER_UNLIMITED has no limit)",
        alias="messaging_limit_tier_sizes",
    )
    failure_code: LimitFailureCode = choice(
        LimitFailureCode,
        "131048",
        description="the code of the failed status of a send beyond the limit (accepted first, as Meta does)",
        alias="messaging_limit_failure_code",
    )
    review_latency: list[float] = span(
        [3600.0, 6 * 3600.0],
        high=MAX_SECONDS,
        description="a scaling path done → the review's decision, drawn uniformly",
        alias="messaging_limit_review_latency",
    )
    review_decision: ReviewOutcome = choice(
        ReviewOutcome,
        "approve",
        description="what the review of a scaling path decides (approve: TIER_250 → TIER_2K)",
        alias="messaging_limit_review_decision",
    )
    scaling_path_users: int = integer(
        2_000,
        low=1,
        high=1_000_000,
        unit="users",
        description="unique users reached by templates outside windows in 30 days that start the review",
        alias="messaging_limit_scaling_path_users",
    )
    upgrade_share: float = number(
        0.5,
        low=0,
        high=1,
        description="share of the current limit reached in unique users over 7 days that schedules an upgrade",
        alias="messaging_limit_upgrade_share",
    )
    upgrade_delay: list[float] = span(
        [0.0, 6 * 3600.0],
        high=MAX_SECONDS,
        description="eligible → one tier up (conditions checked again then), drawn uniformly",
        alias="messaging_limit_upgrade_delay",
    )


@dataclass(slots=True)
class Pricing:
    """How messages are priced and charged (docs/pricing.md; SEED-MSG-3, SEED-MSG-4): the era, CBP's free tier,
    the cost ledger's length and the provider's credit."""

    model: PricingModel = choice(
        PricingModel,
        "auto",
        description=(
            "auto: by the tenant clock (CBP 2022 categories, CBP categories from 2023-06-01, PMP from 2025-07-01); "
            "conversation: CBP with the 2022 categories; conversation_category: CBP by category; per_message: PMP"
        ),
        alias="pricing_model",
    )
    free_tier_conversations: int = integer(
        1_000,
        low=0,
        high=1_000_000,
        unit="conversations/month",
        description="free CBP conversations per WABA per calendar month (2022: any; from 2023-06: service only)",
        alias="pricing_free_tier_conversations",
    )
    credit_usd: float = number(
        2.0,
        low=0.0001,
        high=1_000,
        unit="USD",
        description="what one provider credit is worth (SEED-MSG-4), for the ledger's credit view",
        alias="pricing_credit_usd",
    )
    ledger_entries: int = integer(
        10_000,
        low=1,
        high=1_000_000,
        unit="entries",
        description="charges the cost ledger keeps (its totals are kept whole)",
        alias="pricing_ledger_entries",
    )


@dataclass(slots=True)
class DisplayNames:
    """Meta's review of a display name (§2.9): when it is decided and how; forced with POST .../reviews."""

    latency: list[float] = span(
        [600.0, 7200.0],
        high=MAX_SECONDS,
        description="submitted → decided, drawn uniformly",
        alias="display_name_latency",
    )
    outcome: NameDecision = choice(
        NameDecision, "APPROVED", description="what the review decides", alias="display_name_outcome"
    )
    rejection_reason: NameRejectionReason = choice(
        NameRejectionReason,
        "NAME_FORMAT_UNACCEPTABLE",
        description="the rejection_reason of a REJECTED name",
        alias="display_name_rejection_reason",
    )


@dataclass(slots=True)
class Templates:
    """Meta's limits on creating message templates (§4.1): counts, rates and field lengths."""

    per_waba: int = integer(
        250,
        low=1,
        high=100_000,
        unit="templates",
        description="templates a WABA of an unverified business may hold",
        alias="templates_per_waba",
    )
    per_waba_verified: int = integer(
        6_000,
        low=1,
        high=100_000,
        unit="templates",
        description="templates a WABA of a verified business may hold",
        alias="templates_per_waba_verified",
    )
    creations_per_hour: int = integer(
        100,
        low=1,
        high=100_000,
        unit="templates/hour",
        description="creations per rolling hour per WABA",
        alias="template_creations_per_hour",
    )
    name_blocked_days: int = integer(
        30,
        low=0,
        high=365,
        unit="days",
        description="a deleted template's name and language cannot be reused for",
        alias="template_name_blocked_days",
    )
    approved_edits_per_day: int = integer(
        1,
        low=0,
        high=1_000,
        unit="edits",
        description="edits of an APPROVED template per rolling 24 hours (SEED-TEMPLATE-4)",
        alias="template_approved_edits_per_day",
    )
    approved_edits_per_month: int = integer(
        10,
        low=0,
        high=1_000,
        unit="edits",
        description="edits of an APPROVED template per rolling 30 days",
        alias="template_approved_edits_per_month",
    )
    one_submission_per_day: bool = flag(
        False,
        description="the provider rule SEED-TEMPLATE-3, not Meta's: a template is resubmitted (edited) at most once "
        "per rolling 24 hours, whatever its status",
        alias="template_one_submission_per_day",
    )
    deletion_seconds: float = number(
        60,
        low=0,
        high=30 * 86_400,
        unit="seconds",
        description="PENDING_DELETION to DELETED; 0 deletes at once",
        alias="template_deletion_seconds",
    )
    name_max: int = integer(
        512, low=1, high=512, unit="characters", description="template name", alias="template_name_max"
    )
    body_max: int = integer(
        1024, low=1, high=32_768, unit="characters", description="BODY text", alias="template_body_max"
    )
    header_text_max: int = integer(
        60, low=1, high=1024, unit="characters", description="TEXT HEADER", alias="template_header_text_max"
    )
    footer_max: int = integer(
        60, low=1, high=1024, unit="characters", description="FOOTER text", alias="template_footer_max"
    )
    button_text_max: int = integer(
        25, low=1, high=1024, unit="characters", description="a button's text", alias="template_button_text_max"
    )
    buttons_max: int = integer(
        10, low=1, high=100, unit="buttons", description="buttons of one template", alias="template_buttons_max"
    )
    url_buttons_max: int = integer(
        2, low=0, high=100, unit="buttons", description="URL buttons", alias="template_url_buttons_max"
    )
    phone_buttons_max: int = integer(
        1, low=0, high=100, unit="buttons", description="PHONE_NUMBER buttons", alias="template_phone_buttons_max"
    )
    copy_code_buttons_max: int = integer(
        1, low=0, high=100, unit="buttons", description="COPY_CODE buttons", alias="template_copy_code_buttons_max"
    )
    url_max: int = integer(
        2000, low=1, high=32_768, unit="characters", description="a URL button's url", alias="template_url_max"
    )
    cards_max: int = integer(
        10, low=1, high=100, unit="cards", description="cards of a CAROUSEL", alias="template_cards_max"
    )


@dataclass(slots=True)
class Quality:
    """A number's quality rating from customers' blocks and reports (docs/phone-numbers.md), its legacy FLAGGED
    state, and the automatic throughput upgrade it gates (META-TP)."""

    rule: QualityRule = choice(
        QualityRule,
        "auto",
        description="auto: by the tenant clock (FLAGGED and DOWNGRADE before 2025-10-07); legacy; current",
        alias="quality_rule",
    )
    window_days: int = integer(
        7,
        low=1,
        high=90,
        unit="days",
        description="moving window of business-initiated messages rated",
        alias="quality_window_days",
    )
    yellow_rate: float = number(
        0.02,
        low=0,
        high=1,
        description="blocks and reports per business-initiated message that rate YELLOW",
        alias="quality_yellow_rate",
    )
    red_rate: float = number(
        0.05, low=0, high=1, description="the same, for RED (checked first)", alias="quality_red_rate"
    )
    min_sample: int = integer(
        20,
        low=1,
        high=10_000_000,
        unit="messages",
        description="fewer business-initiated messages in the window: a rating with feedback stays as it is",
        alias="quality_min_sample",
    )
    reactions_kept: int = integer(
        1_000,
        low=1,
        high=100_000,
        unit="reactions",
        description="newest reactions kept per number",
        alias="quality_reactions_kept",
    )
    flag_days: int = integer(
        7,
        low=1,
        high=90,
        unit="days",
        description="legacy: FLAGGED this long, then UNFLAGGED or DOWNGRADE",
        alias="quality_flag_days",
    )
    throughput_upgrade_users: int = integer(
        100_000,
        low=1,
        high=10_000_000,
        unit="users",
        description="unique users outside a window in 24 h that make an unlimited portfolio's number eligible",
        alias="throughput_upgrade_users",
    )
    throughput_upgrade_delay: list[float] = span(
        [0.0, 12 * 3600.0],
        high=MAX_SECONDS,
        description="eligible → maintenance starts, drawn uniformly",
        alias="throughput_upgrade_delay",
    )
    maintenance_seconds: float = number(
        60.0,
        low=0,
        high=86_400,
        unit="seconds",
        description="the upgrade's maintenance (131057 on sends)",
        alias="throughput_upgrade_maintenance_seconds",
    )


@dataclass(slots=True)
class TemplateReview:
    """The review of a message template (SEED-TEMPLATE-2, -6, meta-lifecycle.md §4.6-§4.7): how fast it decides,
    what it re-categorises, how often it rejects for no visible reason (domain/template_review.py)."""

    latency_median_seconds: float = number(
        120.0,
        low=1,
        high=DAY,
        unit="seconds",
        description="median of the review's latency (lognormal; BSPs: utility 1-10 minutes)",
        alias="template_review_latency_median_seconds",
    )
    latency_sigma: float = number(
        1.6, low=0, high=5, description="sigma of the lognormal latency", alias="template_review_latency_sigma"
    )
    latency_bounds: list[float] = span(
        [15.0, DAY],
        high=MAX_SECONDS,
        description="the drawn latency is clipped to [min, max] (Meta: up to 24 hours)",
        alias="template_review_latency_bounds",
    )
    marketing_latency_factor: float = number(
        4.0,
        low=0.01,
        high=1000,
        description="the median is multiplied by this for a template approved as MARKETING",
        alias="template_review_marketing_latency_factor",
    )
    flagged_latency_factor: float = number(
        6.0,
        low=0.01,
        high=1000,
        description="the median is multiplied by this when a content rule (policy, category, language) decided",
        alias="template_review_flagged_latency_factor",
    )
    recategorisation: Recategorisation = choice(
        Recategorisation,
        "automatic",
        description="UTILITY with promotional content: automatic: approved as MARKETING (Meta since 2025-04-09); "
        "when_allowed: only with allow_category_change, else INCORRECT_CATEGORY; never: INCORRECT_CATEGORY",
        alias="template_review_recategorisation",
    )
    words_per_variable: float = number(
        1.5,
        low=0,
        high=50,
        unit="words",
        description="fixed words a BODY needs per variable, else INVALID_FORMAT",
        alias="template_review_words_per_variable",
    )
    emoji_limit: int = integer(
        4,
        low=1,
        high=1_000,
        unit="emojis",
        description="a UTILITY or AUTHENTICATION template with this many emojis counts as promotional",
        alias="template_review_emoji_limit",
    )
    chance_rejection_probability: float = number(
        0.03,
        low=0,
        high=1,
        description="chance that a template the rules approve is rejected anyway (Meta's review is not all rules)",
        alias="template_review_chance_rejection_probability",
    )
    chance_rejection_reason: RejectionReason = choice(
        RejectionReason,
        "NONE",
        description="the rejected_reason of such a rejection (NONE: Meta gave no reason)",
        alias="template_review_chance_rejection_reason",
    )


@dataclass(slots=True)
class TemplateQuality:
    """How customers' reactions to a template's messages make its quality score, and how long RED pauses it (§4.8).
    Meta publishes no formula: the share of blocks and reports among the reactions of a moving window."""

    window_hours: float = number(
        168,
        low=1,
        high=24 * 90,
        unit="hours",
        description="reactions older than this no longer count toward a template's score",
        alias="template_quality_window_hours",
    )
    min_reactions: int = integer(
        10,
        low=1,
        high=1_000_000,
        unit="reactions",
        description="reactions in the window before a score is given (UNKNOWN until then)",
        alias="template_quality_min_reactions",
    )
    yellow_share: float = number(
        0.1,
        low=0,
        high=1,
        description="share of blocks and reports among the window's reactions from which the score is YELLOW",
        alias="template_quality_yellow_share",
    )
    red_share: float = number(
        0.3,
        low=0,
        high=1,
        description="share of blocks and reports from which the score is RED (and an APPROVED template pauses)",
        alias="template_quality_red_share",
    )
    first_pause_hours: float = number(
        3,
        low=0,
        high=24 * 30,
        unit="hours",
        description="the first pause (Meta: 3 hours)",
        alias="template_first_pause_hours",
    )
    second_pause_hours: float = number(
        6,
        low=0,
        high=24 * 30,
        unit="hours",
        description="the second pause (Meta: 6 hours); the next RED disables the template",
        alias="template_second_pause_hours",
    )


@dataclass(frozen=True, slots=True, eq=False)
class Entry:
    """One declared knob as the catalogue lists it."""

    group: str
    name: str
    knob: Knob
    default: Any

    @property
    def flat_name(self) -> str:
        return self.knob.alias or self.name

    def describe(self) -> dict[str, Any]:
        return {"group": self.group, "name": self.name, "flat_name": self.flat_name, **self.knob.describe()} | {
            "default": self.default
        }


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Every group and knob of a policy class, and the flat names (old, ungrouped) they are also accepted by."""

    entries: dict[str, dict[str, Entry]]
    flat: dict[str, Entry]


@cache
def catalogue(policy: type[Policy]) -> Catalogue:
    defaults = policy()
    entries: dict[str, dict[str, Entry]] = {}
    flat: dict[str, Entry] = {}
    for group_field in fields(policy):
        group = getattr(defaults, group_field.name)
        entries[group_field.name] = {}
        for knob_field in fields(group):
            knob = knob_field.metadata[KNOB]
            entry = Entry(group_field.name, knob_field.name, knob, getattr(group, knob_field.name))
            entries[group_field.name][knob_field.name] = entry
            if entry.flat_name in flat:
                raise TypeError(f"policy knob name {entry.flat_name!r} is declared twice")
            flat[entry.flat_name] = entry
    if clashes := set(flat) & set(entries):
        raise TypeError(f"policy knob names {sorted(clashes)} are also group names")
    return Catalogue(entries, flat)


@dataclass(slots=True)
class Policy:
    """Every group of knobs; code reads `tenant.policy.messages.sent_delay`, nothing is validated on reading."""

    messages: Messages = field(default_factory=Messages)
    limits: Limits = field(default_factory=Limits)
    webhooks: Webhooks = field(default_factory=Webhooks)
    journal: Journal = field(default_factory=Journal)
    trial: Trial = field(default_factory=Trial)
    verification: Verification = field(default_factory=Verification)
    waba_review: WabaReview = field(default_factory=WabaReview)
    messaging_limits: MessagingLimits = field(default_factory=MessagingLimits)
    pricing: Pricing = field(default_factory=Pricing)
    numbers: Numbers = field(default_factory=Numbers)
    display_names: DisplayNames = field(default_factory=DisplayNames)
    templates: Templates = field(default_factory=Templates)
    quality: Quality = field(default_factory=Quality)
    template_review: TemplateReview = field(default_factory=TemplateReview)
    template_quality: TemplateQuality = field(default_factory=TemplateQuality)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """`{group: {knob: value}}`, every default visible."""
        return asdict(self)

    def flat_snapshot(self) -> dict[str, Any]:
        """`{flat name: value}`, the ungrouped shape of earlier versions."""
        snapshot = self.snapshot()
        return {name: snapshot[entry.group][entry.name] for name, entry in catalogue(type(self)).flat.items()}

    @classmethod
    def describe(cls) -> list[dict[str, Any]]:
        """Every knob's declaration: group, name, flat name, type, bounds or choices, unit, description, default."""
        return [entry.describe() for knobs in catalogue(cls).entries.values() for entry in knobs.values()]

    def patch(self, changes: dict[str, Any]) -> None:
        """Apply grouped (`{"messages": {"progression": ...}}`) and flat (`{"progression": ...}`) knobs at once;
        raises `Invalid` naming the first bad one, and changes nothing then."""
        for entry, value in self._staged(changes).items():
            setattr(getattr(self, entry.group), entry.name, value)

    def _staged(self, changes: dict[str, Any]) -> dict[Entry, Any]:
        known = catalogue(type(self))
        staged: dict[Entry, Any] = {}

        def stage(entry: Entry, value: Any, given_as: str) -> None:
            label = f"{entry.group}.{entry.name}"
            if entry in staged:
                raise Invalid(f"policy knob {label} is given twice")
            name = label if given_as == label else f"{label} (given as {given_as})"
            staged[entry] = entry.knob.check(name, value, getattr(getattr(self, entry.group), entry.name))

        for key, value in changes.items():
            if key in known.entries:
                knobs = known.entries[key]
                if not isinstance(value, dict):
                    raise Invalid(f"policy group {key} must be an object of its knobs ({', '.join(knobs)})")
                for name, item in value.items():
                    if name not in knobs:
                        raise Invalid(f"unknown knob {name!r} in policy group {key}; known: {', '.join(knobs)}")
                    stage(knobs[name], item, f"{key}.{name}")
            elif key in known.flat:
                stage(known.flat[key], value, key)
            else:
                raise Invalid(
                    f"unknown policy group or knob {key!r}; groups: {', '.join(known.entries)} "
                    f"(GET /_sandbox/policy/knobs lists every knob)"
                )
        return staged
