"""The decision of Meta's template review: which rule decides, what it decides, and how long the review takes.

`decide(submission, rng, knobs)` runs the rules below in order; the first that finds something decides. Each rule
is one small function with an id (shown in the tenant journal as the verdict's `rule`). Where Meta documents the
behaviour the rule cites it; the rest is marked *sandbox choice* and listed in docs/fidelity-choices.md.

Order: format problems the validator lets through (automated checks) → scam and abusive wording (policy) →
authentication's fixed text → a one-time password outside AUTHENTICATION → a language tag the text does not match
→ promotional wording in UTILITY (approved as MARKETING since 2025-04-09) → a small seeded chance of a policy
rejection → APPROVED.

Latency: lognormal around `latency_median_seconds` (2 minutes), `latency_sigma` 1.6, clipped to `latency_bounds`
(15 s – 24 h). BSPs report utility and authentication templates "within minutes" (1–10 min, 1–5 min), marketing
10–60 min, and templates that need a human look ("risk words", marketing inside utility) 30–180 min, rarely up to
24–48 h (myoperator, eazybe, campaignhq); Meta says up to 24 hours (SEED-TEMPLATE-2). So the median is multiplied
by `marketing_latency_factor` when the template ends MARKETING and by `flagged_latency_factor` when a content rule
(policy, category, language, chance) decided; format rejections are automated and keep the plain median.

Determinism: every call draws exactly two numbers from `rng`, latency first, then the chance, whatever the content,
so the same submissions in the same order give the same verdicts and the spread does not shift when one rule
changes. Text is scanned in linear time (a character loop, `str.split`, set lookups; no regex on user text) and
each string is cut to `MAX_TEXT` characters first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # the domain never imports random; the tenant's seeded generator is passed in
    import random

    from sandbox.domain.policy import TemplateReview

RejectionReason = Literal[
    "ABUSIVE_CONTENT", "INCORRECT_CATEGORY", "INVALID_FORMAT", "PROMOTIONAL", "SCAM", "TAG_CONTENT_MISMATCH", "NONE"
]
# automatic: Meta's current rule; when_allowed: before 2025-04-09 (allow_category_change decided); never: reject.
Recategorisation = Literal["automatic", "when_allowed", "never"]

MAX_TEXT = 4096
MAX_COMPONENTS = 16
MAX_BUTTONS = 16
_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class Submission:
    """What the review sees."""

    name: str
    language: str
    category: str
    allow_category_change: bool
    parameter_format: str
    components: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    status: str
    reason: str
    category: str
    latency_seconds: float
    rule: str


@dataclass(frozen=True, slots=True)
class Finding:
    """What a rule found: REJECTED with a reason, or APPROVED in another category."""

    status: str
    reason: str
    category: str | None = None
    flagged: bool = True


def _rejected(reason: str, *, flagged: bool = True) -> Finding:
    return Finding("REJECTED", reason, flagged=flagged)


# --- reading the submission -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Content:
    """The submission's text, cut to size: header, body, footer, buttons, and everything lower-cased as words."""

    header_format: str
    header: str
    body: str
    footer: str
    has_footer_expiry: bool
    buttons: tuple[dict[str, str], ...]
    words: tuple[str, ...]
    phrases: str  # " w1 w2 ... " for phrase lookups on word boundaries

    @property
    def texts(self) -> tuple[str, ...]:
        return (self.header, self.body, self.footer, *(b["text"] for b in self.buttons))


def _str(value: Any) -> str:
    return value[:MAX_TEXT] if isinstance(value, str) else ""


def read(submission: Submission) -> Content:
    header_format = header = body = footer = ""
    expiry = False
    buttons: list[dict[str, str]] = []
    for component in submission.components[:MAX_COMPONENTS]:
        if not isinstance(component, dict):
            continue
        kind = _str(component.get("type")).upper()
        if kind == "HEADER":
            header_format, header = _str(component.get("format")).upper() or "TEXT", _str(component.get("text"))
        elif kind == "BODY":
            body = _str(component.get("text"))
        elif kind == "FOOTER":
            footer = _str(component.get("text"))
            expiry = component.get("code_expiration_minutes") is not None
        elif kind == "BUTTONS" and isinstance(component.get("buttons"), list):
            for button in component["buttons"][:MAX_BUTTONS]:
                if isinstance(button, dict):
                    buttons.append({key: _str(button.get(key)) for key in ("type", "text", "url", "otp_type")})
    texts = (header, body, footer, *(b["text"] for b in buttons))
    words = tuple(word for text in texts for word in _words(_without_variables(text)))
    return Content(header_format, header, body, footer, expiry, tuple(buttons), words, f" {' '.join(words)} ")


def _variables(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each `{{...}}` in `text`, found with str.find: linear, no regex."""
    start = text.find("{{")
    while start != -1:
        end = text.find("}}", start + 2)
        if end == -1:
            return
        yield start, end + 2
        start = text.find("{{", end + 2)


def _without_variables(text: str) -> str:
    parts, last = [], 0
    for start, end in _variables(text):
        parts.append(text[last:start])
        parts.append(" ")
        last = end
    parts.append(text[last:])
    return "".join(parts)


def _words(text: str) -> list[str]:
    """Lower-cased runs of letters and digits ("50% off!" → ["50", "off"])."""
    return "".join(c if c.isalnum() else " " for c in text.lower()).split()


def _has(content: Content, phrases: frozenset[str]) -> str | None:
    """The first listed word or phrase the content contains, on word boundaries."""
    found = set(content.words) & phrases
    if found:
        return min(found)
    return next((p for p in sorted(phrases) if " " in p and f" {p} " in content.phrases), None)


def _emoji_count(text: str) -> int:
    return sum(1 for c in text if 0x1F300 <= ord(c) <= 0x1FAFF or 0x2600 <= ord(c) <= 0x27BF)


# --- the word lists (sandbox choice: short and readable, not Meta's classifier) ---------------------------------


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _phrases(text: str) -> frozenset[str]:
    """Comma-separated words and phrases, spelled as `read` spells the content's words."""
    return frozenset(" ".join(_words(phrase)) for phrase in text.split(",") if phrase.strip())


SCAM_WORDS = _phrases(
    "guaranteed returns, guaranteed profit, double your money, risk-free investment, wire transfer, western union,"
    " moneygram, gift card, gift cards, itunes card, steam card, you have won, you've won, claim your prize,"
    " lottery, inheritance, crypto investment, send bitcoin, cvv, card number, social security number,"
    " bank password, verify your bank account"
)
ABUSIVE_WORDS = _phrases(
    "kill, hurt you, or else, you will regret, we know where you live, final warning, idiot, stupid, moron,"
    " loser, shut up"
)
PROMOTIONAL_WORDS = _phrases(
    "offer, offers, discount, discounts, sale, coupon, coupons, promo, promotion, deal, deals, voucher, cashback,"
    " percent off, limited time, buy now, shop now, order now, free shipping, special offer, don't miss,"
    " exclusive, flash sale, black friday, new arrivals, save up to, hurry, upgrade now"
)
OTP_WORDS = _phrases("otp, passcode, verification code, one-time password, login code, security code, 2fa code")
URL_SHORTENERS = _names(
    "bit.ly tinyurl.com goo.gl t.co ow.ly is.gd buff.ly rebrand.ly cutt.ly shorturl.at tiny.cc rb.gy t.ly"
)
# Meta's preset text of an authentication template (English; other languages get Meta's translation).
AUTH_BODIES = frozenset(
    {
        "{{1}} is your verification code.",
        "{{1}} is your verification code. for your security, do not share this code.",
    }
)
AUTH_BUTTONS = frozenset({"OTP", "COPY_CODE"})


def _promotional(content: Content, knobs: TemplateReview) -> bool:
    text = " ".join(content.texts)
    off = "% off" in text.lower() or "%off" in text.lower()
    return off or _has(content, PROMOTIONAL_WORDS) is not None or _emoji_count(text) >= knobs.emoji_limit


# --- the rules, in order ----------------------------------------------------------------------------------------

Rule = Callable[[Submission, Content, "TemplateReview"], Finding | None]


def variable_only_header(submission: Submission, content: Content, knobs: TemplateReview) -> Finding | None:
    """A TEXT header that is nothing but a variable (Meta's review guidelines: variables need context)."""
    if content.header_format == "TEXT" and "{{" in content.header and not _words(_without_variables(content.header)):
        return _rejected("INVALID_FORMAT", flagged=False)
    return None


def floating_variable(submission: Submission, content: Content, knobs: TemplateReview) -> Finding | None:
    """A variable alone on a line, or two with only spaces between them (Meta's rejection_info: "parameters placed
    next to each other (like {{1}}{{2}}) without text or punctuation between them"; §4.6 "dangling params")."""
    body = content.body
    for line in body.splitlines():
        if "{{" in line and not _without_variables(line).strip():
            return _rejected("INVALID_FORMAT", flagged=False)
    spans = list(_variables(body))
    for (_, end), (start, _) in pairwise(spans):
        if not body[end:start].strip():
            return _rejected("INVALID_FORMAT", flagged=False)
    return None


def too_little_text(submission: Submission, content: Content, knobs: TemplateReview) -> Finding | None:
    """Too few fixed words for its variables (Meta §4.6 "param/length ratio"; the ratio is a sandbox choice:
    `words_per_variable`, stricter ratios already fail creation with 2388293)."""
    count = sum(1 for _ in _variables(content.body))
    if count and len(_words(_without_variables(content.body))) < knobs.words_per_variable * count:
        return _rejected("INVALID_FORMAT", flagged=False)
    return None


def url_shortener(submission: Submission, content: Content, knobs: TemplateReview) -> Finding | None:
    """A link through a URL shortener (BSPs list bit.ly, tinyurl... among the common rejections)."""
    for text in (*content.texts, *(b["url"] for b in content.buttons)):
        for chunk in text.lower().split():
            host = chunk.removeprefix("https://").removeprefix("http://").removeprefix("www.").split("/")[0]
            if host.rstrip(".,;:!?)") in URL_SHORTENERS:
                return _rejected("INVALID_FORMAT", flagged=False)
    return None


def scam(submission: Submission, content: Content, knobs: TemplateReview) -> Finding | None:
    """Scam wording: promised returns, wire transfers, gift cards, prizes, requests for card numbers (Meta's
    Business Messaging Policy; §4.6 "sensitive-identifier requests"). The list is a sandbox choice."""
    return _rejected("SCAM") if _has(content, SCAM_WORDS) else None


def abusive(submission: Submission, content: Content, knobs: TemplateReview) -> Finding | None:
    """Threats and insults (§4.6 "threats"). The list is a sandbox choice."""
    return _rejected("ABUSIVE_CONTENT") if _has(content, ABUSIVE_WORDS) else None


def authentication_promotional(submission: Submission, content: Content, knobs: TemplateReview) -> Finding | None:
    """AUTHENTICATION carrying an offer is not authentication (Meta: content must match the category; no
    re-categorisation from AUTHENTICATION is documented, so INCORRECT_CATEGORY)."""
    if submission.category.upper() == "AUTHENTICATION" and _promotional(content, knobs):
        return _rejected("INCORRECT_CATEGORY")
    return None


def authentication_fixed_text(submission: Submission, content: Content, knobs: TemplateReview) -> Finding | None:
    """AUTHENTICATION is Meta's preset text and one OTP button: "URLs, media, and emojis are not supported"; no
    header; the English body is "<code> is your verification code." with the optional security disclaimer."""
    if submission.category.upper() != "AUTHENTICATION":
        return None
    texts = " ".join(content.texts)
    body = " ".join(content.body.lower().split())
    otp_buttons = [b for b in content.buttons if b["type"].upper() in AUTH_BUTTONS]
    wrong = (
        bool(content.header_format)
        or _emoji_count(texts) > 0
        or "http" in texts.lower()
        or len(otp_buttons) != 1
        or len(content.buttons) != 1
        or (bool(body) and submission.language.lower().startswith("en") and _numbered(body) not in AUTH_BODIES)
        or (bool(content.footer) and not content.footer.lower().startswith("this code expires in"))
    )
    return _rejected("INVALID_FORMAT", flagged=False) if wrong else None


def _numbered(text: str) -> str:
    """Any variable spelled `{{1}}`, so named and positional presets compare alike."""
    parts, last = [], 0
    for start, end in _variables(text):
        parts.append(text[last:start] + "{{1}}")
        last = end
    return "".join(parts) + text[last:]


def otp_outside_authentication(submission: Submission, content: Content, knobs: TemplateReview) -> Finding | None:
    """A one-time password in a UTILITY or MARKETING template (Meta: codes must be sent with AUTHENTICATION; such
    templates are rejected with INCORRECT_CATEGORY, §4.7)."""
    if submission.category.upper() != "AUTHENTICATION" and "{{" in content.body and _has(content, OTP_WORDS):
        return _rejected("INCORRECT_CATEGORY")
    return None


def tag_content_mismatch(submission: Submission, content: Content, knobs: TemplateReview) -> Finding | None:
    """Text clearly in another language than its tag (sandbox choice, see language_mismatch below)."""
    return _rejected("TAG_CONTENT_MISMATCH") if language_mismatch(submission.language, content) else None


def promotional_utility(submission: Submission, content: Content, knobs: TemplateReview) -> Finding | None:
    """UTILITY with promotional wording is MARKETING. Since 2025-04-09 Meta approves it as MARKETING
    (`allow_category_change` no longer read, §4.7); `recategorisation` can bring back the older behaviours."""
    if submission.category.upper() != "UTILITY" or not _promotional(content, knobs):
        return None
    mode = knobs.recategorisation
    if mode == "automatic" or (mode == "when_allowed" and submission.allow_category_change):
        return Finding("APPROVED", "NONE", category="MARKETING")
    return _rejected("INCORRECT_CATEGORY")


RULES: tuple[tuple[str, Rule], ...] = (
    ("format.variable_only_header", variable_only_header),
    ("format.floating_variable", floating_variable),
    ("format.too_little_text", too_little_text),
    ("format.url_shortener", url_shortener),
    ("policy.scam", scam),
    ("policy.abusive", abusive),
    ("authentication.promotional", authentication_promotional),
    ("authentication.fixed_text", authentication_fixed_text),
    ("category.otp_outside_authentication", otp_outside_authentication),
    ("language.tag_content_mismatch", tag_content_mismatch),
    ("category.promotional_utility", promotional_utility),
)
CHANCE_RULE = "chance.policy"
APPROVED_RULE = "approved"


def decide(submission: Submission, rng: random.Random, knobs: TemplateReview) -> Verdict:
    """The verdict of the review: the first rule that finds something, else the chance, else APPROVED."""
    z = _NORMAL.inv_cdf(min(max(rng.random(), 1e-12), 1 - 1e-12))
    chance = rng.random()
    content = read(submission)
    category = submission.category.upper()
    rule, finding = next(
        ((rule_id, found) for rule_id, rule in RULES if (found := rule(submission, content, knobs)) is not None),
        (APPROVED_RULE, Finding("APPROVED", "NONE", flagged=False)),
    )
    if finding.status == "APPROVED" and chance < knobs.chance_rejection_probability:
        rule, finding = CHANCE_RULE, _rejected(knobs.chance_rejection_reason)
    final = finding.category or category
    factor = (knobs.flagged_latency_factor if finding.flagged else 1.0) * (
        knobs.marketing_latency_factor if final == "MARKETING" and finding.status == "APPROVED" else 1.0
    )
    low, high = knobs.latency_bounds
    seconds = min(max(knobs.latency_median_seconds * factor * math.exp(knobs.latency_sigma * z), low), high)
    return Verdict(finding.status, finding.reason, final, seconds, rule)


# --- language: a cheap heuristic, by script and by common words -------------------------------------------------

# fmt: off
_SCRIPTS = (
    (0x0250, "latin"), (0x0370, "other"), (0x0400, "greek"), (0x0530, "cyrillic"), (0x0590, "other"),
    (0x0600, "hebrew"), (0x0780, "arabic"), (0x0900, "other"), (0x0980, "devanagari"), (0x0A00, "bengali"),
    (0x0B80, "other"), (0x0C00, "tamil"), (0x0E00, "other"), (0x0E80, "thai"), (0x3040, "other"),
    (0x3100, "kana"), (0x4E00, "other"), (0xA000, "han"), (0xAC00, "other"), (0xD7B0, "hangul"),
)
SCRIPT_OF_LANGUAGE = {
    "ja": {"kana", "han"}, "zh": {"han"}, "ko": {"hangul", "han"}, "ru": {"cyrillic"}, "uk": {"cyrillic"},
    "bg": {"cyrillic"}, "kk": {"cyrillic"}, "ar": {"arabic"}, "fa": {"arabic"}, "ur": {"arabic"},
    "he": {"hebrew"}, "hi": {"devanagari"}, "mr": {"devanagari"}, "ne": {"devanagari"}, "bn": {"bengali"},
    "ta": {"tamil"}, "th": {"thai"}, "el": {"greek"},
}
# fmt: on
LATIN_LANGUAGES = _names(
    "en es pt fr de it nl id ms tr pl ro sv da nb fi cs sk hu hr sl lt lv et sq af sw fil vi ca ga"
)
_COMMON = {
    "en": "the and your you is are for with this has have will been we our thank order please",
    "es": "el los las tu su es está para con pedido que por del una gracias hola tiene",
    "pt": "o os seu sua você está para com não obrigado do da um uma olá pedido tem",
    "fr": "le les votre vous est et pour avec ce une merci bonjour commande des",
    "de": "der die das ihr sie ist und für mit ein eine danke hallo bestellung wir",
    "it": "il gli tuo tua sei è per con una grazie ciao ordine che della",
}
# A word counts for a language only if no other language in the table uses it.
COMMON_WORDS = {
    tag: frozenset(words.split()) - frozenset(w for other, ws in _COMMON.items() if other != tag for w in ws.split())
    for tag, words in _COMMON.items()
}
MIN_LETTERS = 20


def _script(c: str) -> str:
    code = ord(c)
    for end, name in _SCRIPTS:
        if code < end:
            return name
    return "other"


def language_mismatch(language: str, content: Content) -> bool:
    """True when the text is clearly not in `language`: fewer than a fifth of its letters in the tag's script (or,
    for a Latin-script tag, over four fifths in another script), or, for en/es/pt/fr/de/it, at least three common
    words of one other language and more than twice the tag's own. Short texts (under 20 letters) never mismatch."""
    tag = language.lower().replace("-", "_").split("_")[0]
    scripts: dict[str, int] = {}
    for text in content.texts:
        for c in _without_variables(text):
            if c.isalpha():
                scripts[_script(c)] = scripts.get(_script(c), 0) + 1
    letters = sum(scripts.values())
    if letters < MIN_LETTERS:
        return False
    if tag in SCRIPT_OF_LANGUAGE:
        return sum(scripts.get(s, 0) for s in SCRIPT_OF_LANGUAGE[tag]) < letters / 5
    if tag not in LATIN_LANGUAGES:
        return False
    if scripts.get("latin", 0) < letters / 5:
        return True
    if tag not in COMMON_WORDS:
        return False
    counts = {other: sum(1 for w in content.words if w in words) for other, words in COMMON_WORDS.items()}
    own = counts.pop(tag)
    return any(count >= 3 and count > 2 * own for count in counts.values())
