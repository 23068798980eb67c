"""Meta's Graph error codes, one table, one exception, one envelope.

Titles and HTTP statuses follow Meta's error-codes page (`support/error-codes`) and the older edition that
still had an HTTP column; see docs/reference/meta-messaging.md §1.3–§3.
"""

from __future__ import annotations

import enum
from typing import Any


class GraphErrorCode(enum.IntEnum):
    """Every Graph API error the sandbox can return: code, title (wire), HTTP status, documented details."""

    title: str
    http_status: int
    description: str

    def __new__(cls, code: int, title: str, http_status: int, description: str = "") -> GraphErrorCode:
        member = int.__new__(cls, code)
        member._value_ = code
        member.title = title
        member.http_status = http_status
        member.description = description
        return member

    AUTH_EXCEPTION = 0, "AuthException", 401, "We were unable to authenticate the app user."
    API_UNKNOWN = 1, "API Unknown", 400, "Invalid request or possible server error."
    API_SERVICE = 2, "API Service", 503, "Temporary due to downtime or due to being overloaded."
    API_METHOD = 3, "API Method", 500, "Capability or permissions issue."
    TOO_MANY_CALLS = 4, "Application request limit reached", 400, "The app has reached its API call rate limit."
    PERMISSION_DENIED = (
        10,
        "Application does not have permission for this action",
        403,
        ("Permission is either not granted or has been removed."),
    )
    INVALID_PARAMETER = (
        100,
        "Invalid parameter",
        400,
        ("The request included one or more unsupported or misspelled parameters."),
    )
    ACCESS_TOKEN_REQUIRED = 104, "An access token is required to request this resource.", 401, ""
    ACCESS_TOKEN_INVALID = (
        190,
        "Invalid OAuth access token - Cannot parse access token",
        401,
        ("Your access token has expired."),
    )
    PROVIDE_VALID_APP_ID = 200, "Provide valid app ID", 403, "No access token was provided."
    TEMPORARILY_BLOCKED = (
        368,
        "Temporarily blocked for policies violations",
        403,
        (
            "The WhatsApp Business Account associated with the app has been restricted or disabled for violating "
            "a platform policy."
        ),
    )
    CALLBACK_VERIFICATION_FAILED = (
        2200,
        "Callback verification failed",
        400,
        ("The callback URL did not answer the verification request with HTTP 200 and the hub.challenge value."),
    )
    WABA_RATE_LIMIT = 80007, "Rate limit issues", 400, "The WhatsApp Business Account has reached its rate limit."
    WABA_MANAGEMENT_RATE_LIMIT = (
        80008,
        "Rate limit issues",
        400,
        ("There have been too many calls to this WhatsApp Business Account (template creations per hour)."),
    )
    TEMPLATE_RATE_LIMIT = (
        80012,
        "Rate limit issues",
        400,
        ("There have been too many calls to this message template. Wait a bit and try again."),
    )
    BUSINESS_BLOCKED_USER = (
        130403,
        "Unable to deliver the message",
        400,
        ("Unable to deliver the message. This business has blocked the end user on WhatsApp"),
    )
    RATE_LIMIT_HIT = 130429, "Rate limit hit", 400, "Cloud API message throughput has been reached."
    EXPERIMENT = (
        130472,
        "User's number is part of an experiment",
        400,
        ("Failed to send message because this user's phone number is part of an experiment"),
    )
    COUNTRY_RESTRICTED = (
        130497,
        "Business account is restricted from messaging users in this country",
        403,
        ("The WhatsApp Business Account is restricted from messaging to users in certain countries."),
    )
    SOMETHING_WENT_WRONG = 131000, "Something went wrong", 500, "Message failed to send due to an unknown error."
    ACCESS_DENIED = 131005, "Access denied", 403, "Permission is either not granted or has been removed."
    REQUIRED_PARAMETER_MISSING = (
        131008,
        "Required parameter is missing",
        400,
        ("The request is missing a required parameter."),
    )
    PARAMETER_VALUE_INVALID = 131009, "Parameter value is not valid", 400, "One or more parameter values are invalid."
    SERVICE_UNAVAILABLE = 131016, "Service unavailable", 500, "A service is temporarily unavailable."
    RECIPIENT_CANNOT_BE_SENDER = (
        131021,
        "Recipient cannot be sender",
        400,
        ("Sender and recipient phone number is the same."),
    )
    MESSAGE_UNDELIVERABLE = (
        131026,
        "Message undeliverable",
        400,
        (
            "Unable to deliver message. Reasons can include: The recipient phone number is not a WhatsApp phone "
            "number; the recipient has not accepted our new Terms of Service and Privacy Policy; the recipient is "
            "using an old WhatsApp version."
        ),
    )
    RECIPIENT_NOT_IN_ALLOWED_LIST = (
        131030,
        "Recipient phone number not in allowed list",
        400,
        ("Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again."),
    )
    ACCOUNT_LOCKED = (
        131031,
        "Account has been locked",
        403,
        (
            "The WhatsApp Business Account associated with the app has been restricted or disabled for violating "
            "a platform policy, or we were unable to verify data included in the request against data set on the "
            "WhatsApp Business Account."
        ),
    )
    BUSINESS_PAYMENT_ISSUE = (
        131042,
        "Business eligibility payment issue",
        400,
        ("There was an error related to your payment method."),
    )
    INCORRECT_CERTIFICATE = (
        131045,
        "Incorrect certificate",
        500,
        ("Message failed to send due to a phone number registration error."),
    )
    RE_ENGAGEMENT_MESSAGE = (
        131047,
        "Re-engagement message",
        400,
        (
            "Message failed to send because more than 24 hours have passed since the customer last replied to this "
            "number."
        ),
    )
    SPAM_RATE_LIMIT_HIT = (
        131048,
        "Spam rate limit hit",
        400,
        (
            "Message failed to send because there are restrictions on how many messages can be sent from this phone "
            "number. This may be because too many previous messages were blocked or flagged as spam."
        ),
    )
    HEALTHY_ECOSYSTEM = (
        131049,
        "This message was not delivered to maintain healthy ecosystem engagement.",
        400,
        ("In order to maintain a healthy ecosystem engagement, the message failed to be delivered."),
    )
    MARKETING_OPT_OUT = (
        131050,
        "User has stopped receipt of marketing messages",
        400,
        (
            "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on "
            "WhatsApp from your business."
        ),
    )
    UNSUPPORTED_MESSAGE_TYPE = 131051, "Unsupported message type", 400, "Unsupported message type."
    MEDIA_DOWNLOAD_ERROR = 131052, "Media download error", 400, "Unable to download the media sent by the user."
    MEDIA_UPLOAD_ERROR = 131053, "Media upload error", 400, "Unable to upload the media used in the message."
    PAIR_RATE_LIMIT_HIT = (
        131056,
        "(Business Account, Consumer Account) pair rate limit hit",
        400,
        (
            "Message failed to send because there were too many messages sent from this phone number to the same "
            "phone number in a short period of time."
        ),
    )
    ACCOUNT_IN_MAINTENANCE = 131057, "Account in maintenance mode", 500, "Business Account is in maintenance mode."
    BSUID_RECIPIENT_NOT_SUPPORTED = (
        131062,
        "Business-scoped User ID recipients are not supported",
        400,
        "Business-scoped User ID recipients are not supported for this message.",
    )
    TEMPLATE_PARAM_COUNT_MISMATCH = (
        132000,
        "Number of parameters does not match the expected number of params",
        400,
        (
            "The number of variable parameter values included in the request did not match the number of variable "
            "parameters defined in the template."
        ),
    )
    TEMPLATE_DOES_NOT_EXIST = (
        132001,
        "Template name does not exist in the translation",
        404,
        ("The template does not exist in the specified language or the template has not been approved."),
    )
    TEMPLATE_HYDRATED_TEXT_TOO_LONG = 132005, "Template Hydrated Text Too Long", 400, "Translated text is too long."
    TEMPLATE_FORMAT_POLICY_VIOLATED = (
        132007,
        "Template Format Character Policy Violated",
        400,
        ("Template content violates a WhatsApp policy."),
    )
    TEMPLATE_PARAMETER_FORMAT_MISMATCH = (
        132012,
        "Template Parameter Format Mismatch",
        400,
        ("Variable parameter values formatted incorrectly."),
    )
    TEMPLATE_PAUSED = (
        132015,
        "Template is Paused",
        400,
        ("Template is paused due to low quality so it cannot be sent in a template message."),
    )
    TEMPLATE_DISABLED = (
        132016,
        "Template is Disabled",
        400,
        ("Template has been paused too many times due to low quality and is now permanently disabled."),
    )
    FLOW_BLOCKED = 132068, "Flow is blocked", 400, "Flow is in blocked state."
    FLOW_THROTTLED = (
        132069,
        "Flow is throttled",
        400,
        ("Flow is in throttled state and 10 messages using this flow were already sent in the last hour."),
    )
    INCOMPLETE_DEREGISTRATION = 133000, "Incomplete Deregistration", 500, "A previous deregistration attempt failed."
    SERVER_TEMPORARILY_UNAVAILABLE = (
        133004,
        "Server Temporarily Unavailable",
        503,
        ("Server is temporarily unavailable."),
    )
    PIN_MISMATCH = 133005, "Two step verification PIN Mismatch", 400, "Two-step verification PIN incorrect."
    REVERIFICATION_NEEDED = (
        133006,
        "Phone number re-verification needed",
        400,
        ("Phone number needs to be verified before registering."),
    )
    TOO_MANY_PIN_GUESSES = (
        133008,
        "Too Many two step verification PIN Guesses",
        400,
        ("Try again after the amount of time specified in the details response value."),
    )
    PIN_GUESSED_TOO_FAST = (
        133009,
        "Two step verification PIN Guessed Too Fast",
        400,
        ("Check the details response value before trying again."),
    )
    PHONE_NUMBER_NOT_REGISTERED = (
        133010,
        "Phone number Not Registered",
        400,
        ("Phone number not registered on the WhatsApp Business Platform."),
    )
    WAIT_BEFORE_REGISTERING = (
        133015,
        "Please wait a few minutes before attempting to register this phone number",
        400,
        ("The phone number you are attempting to register was recently deleted, and deletion has not yet completed."),
    )
    REGISTER_RATE_LIMIT = (
        133016,
        "Account register deregister rate limit exceeded",
        400,
        (
            "Registration or Deregistration failed because there were too many attempts for this phone number in a "
            "short period of time."
        ),
    )
    GENERIC_USER_ERROR = (
        135000,
        "Generic user error",
        400,
        ("Message failed to send because of an unknown error with your request parameters."),
    )

    BLOCK_USERS_FAILED = (
        139100,
        "Failed to block/unblock users",
        400,
        ("Blocking or unblocking failed for some or all of the users in the request."),
    )
    BLOCKLIST_LIMIT_REACHED = (
        139101,
        "Blocklist limit reached",
        400,
        ("The blocklist has reached its 64,000-user limit: unblock users before blocking more."),
    )
    BLOCKLIST_CONCURRENT_UPDATE = (
        139102,
        "Blocklist concurrent update",
        400,
        ("The blocklist changed while it was being paged: start again from the first page."),
    )

    MIGRATION_TWO_STEP_ENABLED = (
        2388001,
        "Make sure two-step verification is disabled",
        400,
        ("The number's two-step verification must be disabled by its current owner before it can be migrated."),
    )
    MIGRATION_ALREADY_LISTED = (
        2388012,
        "The number already exists in your phone number list",
        400,
        ("The number is already in the destination WhatsApp Business Account."),
    )
    MIGRATION_CODE_NOT_ELIGIBLE = (
        2388091,
        "Number not eligible to receive a registration code because it is not being migrated",
        400,
        ("Use the normal onboarding flow for this number."),
    )
    MIGRATION_VERIFY_NOT_ELIGIBLE = (
        2388093,
        "Number not eligible to verify a registration code because it is not being migrated",
        400,
        ("Use the normal onboarding flow for this number."),
    )
    MIGRATION_REFUSED = (
        2388103,
        "Cannot migrate phone number",
        400,
        ("A precondition of the migration is not met (meta-lifecycle.md §5.1)."),
    )

    @property
    def message(self) -> str:
        return f"(#{self.value}) {self.title}"


# Subcodes Meta still emits on some codes although `error_subcode` is documented as deprecated since v16.0.
OBSERVED_SUBCODES: dict[GraphErrorCode, int] = {
    GraphErrorCode.RATE_LIMIT_HIT: 2494055,
    GraphErrorCode.RECIPIENT_NOT_IN_ALLOWED_LIST: 2655007,
}


class TemplateSubcode(enum.IntEnum):
    """The `error_subcode`s of code 100 that refuse a message template (meta-lifecycle.md §4.11), each with the
    `error_user_title` WhatsApp Manager shows for it."""

    user_title: str

    def __new__(cls, subcode: int, user_title: str) -> TemplateSubcode:
        member = int.__new__(cls, subcode)
        member._value_ = subcode
        member.user_title = user_title
        return member

    TEMPLATE_LIMIT = 2388019, "Message Template Limit Exceeded"
    LANGUAGE_BEING_DELETED = 2388023, "Message Template Language Is Being Deleted"
    DUPLICATE = 2388024, "Content in This Language Already Exists"
    CHARACTER_LIMIT = 2388040, "Character Limit Exceeded"
    EXAMPLES_REQUIRED = 2388043, "Missing Sample Values"
    HEADER_FORMAT = 2388047, "Header Format Incorrect"
    BODY_FORMAT = 2388072, "Body Format Incorrect"
    FOOTER_FORMAT = 2388073, "Footer Format Incorrect"
    PARAMETER_RATIO = 2388293, "Too Many Variables For The Message Length"
    LEADING_TRAILING_PARAMETER = 2388299, "Variables Can't Be at the Start or End of the Template"


ERROR_CODES_HREF = "/documentation/business-messaging/whatsapp/support/error-codes"


class GraphError(Exception):
    """A failure the real Graph API reports with `code`; `details` is the human explanation in `error_data`.

    `message` overrides the usual `(#code) Title` for the Graph-level errors that have their own wording
    (token errors, unknown objects, missing `messaging_product`); `details=None` omits `error_data`, as Graph
    does for those.
    """

    def __init__(
        self,
        code: GraphErrorCode,
        details: str | None = "",
        *,
        message: str | None = None,
        type: str = "OAuthException",
        subcode: int | None = None,
        user_title: str | None = None,
        user_msg: str | None = None,
        is_transient: bool | None = None,
        headers: dict[str, str] | None = None,
        http_status: int | None = None,
    ) -> None:
        self.code = code
        self.details = code.description if details == "" else details
        self.message = message or code.message
        self.type = type
        self.subcode = subcode if subcode is not None else OBSERVED_SUBCODES.get(code)
        self.user_title = user_title
        self.user_msg = user_msg
        self.is_transient = is_transient
        self.headers = headers or {}
        self.http_status = http_status or code.http_status
        super().__init__(self.message if self.details is None else f"{self.message}: {self.details}")

    def envelope(self, fbtrace_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": int(self.code)}
        if self.details is not None:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.is_transient is not None:
            error["is_transient"] = self.is_transient
        if self.user_title is not None:
            error["error_user_title"] = self.user_title
        if self.user_msg is not None:
            error["error_user_msg"] = self.user_msg
        error["fbtrace_id"] = fbtrace_id
        return {"error": error}

    def webhook_error(self) -> dict[str, Any]:
        """The `errors[]` item of a failed status or inbound webhook, built from the same table row."""
        return webhook_error(self.code, self.details)


def webhook_error(code: GraphErrorCode, details: str | None = None) -> dict[str, Any]:
    return {
        "code": int(code),
        "title": code.title,
        "message": code.title,
        "error_data": {"details": details if details is not None else code.description},
        "href": ERROR_CODES_HREF,
    }


def invalid_parameter(details: str) -> GraphError:
    return GraphError(GraphErrorCode.INVALID_PARAMETER, details)


def required_parameter(details: str) -> GraphError:
    return GraphError(GraphErrorCode.REQUIRED_PARAMETER_MISSING, details)


def parameter_value_invalid(details: str) -> GraphError:
    return GraphError(GraphErrorCode.PARAMETER_VALUE_INVALID, details)


def unknown_object(object_id: str, method: str) -> GraphError:
    """Graph's answer for an id that does not exist, is another tenant's, or does not take this method."""
    return GraphError(
        GraphErrorCode.INVALID_PARAMETER,
        None,
        message=(
            f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, cannot be loaded due "
            "to missing permissions, or does not support this operation. Please read the Graph API documentation at "
            "https://developers.facebook.com/docs/graph-api"
        ),
        type="GraphMethodException",
        subcode=33,
    )


class SandboxError(Exception):
    """A control-plane request that cannot be carried out, answered in the Graph envelope with
    `type: SandboxError` and this HTTP `status` (control-plane.md conventions)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
