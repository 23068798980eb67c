"""`GET|POST /{phone-number-id}/settings`: calling, payload encryption, storage and the identity check.

One feature per `POST` (meta-openapi `updatePhoneNumberSettings`), validated whole before it is applied. Enum values
are read case-insensitively and answered as Meta's calling pages spell them (`ENABLED`, `DEFAULT`, `DTLS`); the
OpenAPI description's lower-case spellings and its `visible`/`hidden`, `DTLS-SRTP`/`SDES-SRTP` are read as aliases.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from starlette.responses import Response

from sandbox.api.fields import requested_fields
from sandbox.api.graph import GraphRequest, GraphRoute
from sandbox.api.parsing import (
    Path,
    as_bool,
    as_list,
    as_object,
    as_str,
    graph_param_error,
    one_of,
    param_name,
    require,
)
from sandbox.domain.errors import is_integer
from sandbox.domain.phone_number_settings import (
    CALL_ICON_VISIBILITY,
    COUNTRIES_MAX,
    DATA_LOCALIZATION_REGIONS,
    DAYS_OF_WEEK,
    HOLIDAYS_MAX,
    HOURS_PER_DAY_MAX,
    ON_OFF,
    RETENTION_MINUTES,
    SIP_SERVERS_MAX,
    SRTP_KEY_EXCHANGE_PROTOCOLS,
    Feature,
    StorageStatus,
    UpdatePhoneNumberSettings,
)
from sandbox.errors import invalid_parameter
from sandbox.services import phone_number_settings

NODE_TYPE = "WhatsAppBusinessPhoneNumberSettings"
ALIASES = {"VISIBLE": "DEFAULT", "HIDDEN": "DISABLE_ALL", "DTLS-SRTP": "DTLS", "SDES-SRTP": "SDES"}
HOSTNAME_MAX = 253
TIMEZONE_MAX = 64
ENCRYPTION_KEY_MAX = 8192
USER_PARAMS_MAX = 10
USER_PARAM_MAX = 128
_TIME = re.compile(r"([01][0-9]|2[0-3])[0-5][0-9]")
_DATE = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")
_COUNTRY = re.compile(r"[A-Z]{2}")


def _enum(value: Any, allowed: Sequence[str], path: Path, aliases: Sequence[str] = ()) -> str:
    member = one_of(value, [name.lower() for name in (*allowed, *aliases)], path).upper()
    return ALIASES.get(member, member)


def _optional_enum(obj: dict[str, Any], key: str, allowed: Sequence[str], path: Path, out: dict[str, Any]) -> None:
    if obj.get(key) is not None:
        aliases = [alias for alias, target in ALIASES.items() if target in allowed]
        out[key] = _enum(obj[key], allowed, (*path, key), aliases)


def _bounded_int(value: Any, low: int, high: int, path: Path) -> int:
    if not is_integer(value) or not low <= value <= high:
        raise invalid_parameter(f"Param {param_name(path)} must be an integer between {low} and {high}.")
    return int(value)


def _bounded_text(value: Any, limit: int, path: Path) -> str:
    text = as_str(value, path)
    if not text or len(text) > limit:
        raise invalid_parameter(f"Param {param_name(path)} must be between 1 and {limit} characters long.")
    return text


def _clock_time(value: Any, path: Path) -> str:
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        raise invalid_parameter(f"Param {param_name(path)} must be a time of day as HHMM (0000 to 2359).")
    return value


def _sip(value: Any, path: Path) -> dict[str, Any]:
    sip = as_object(value, path)
    out: dict[str, Any] = {"status": _enum(require(sip, "status", path), ON_OFF, (*path, "status"))}
    servers = as_list(sip.get("servers", []), (*path, "servers"))
    if len(servers) > SIP_SERVERS_MAX:
        raise invalid_parameter(f"Param {param_name((*path, 'servers'))} can have at most {SIP_SERVERS_MAX} servers.")
    out["servers"] = []
    for index, item in enumerate(servers):
        where = (*path, "servers", index)
        server = as_object(item, where)
        parsed = {
            "hostname": _bounded_text(require(server, "hostname", where), HOSTNAME_MAX, (*where, "hostname")),
            "port": _bounded_int(require(server, "port", where), 1, 65535, (*where, "port")),
        }
        if server.get("request_uri_user_params") is not None:
            params = as_object(server["request_uri_user_params"], (*where, "request_uri_user_params"))
            if len(params) > USER_PARAMS_MAX:
                raise invalid_parameter(f"Param {param_name((*where, 'request_uri_user_params'))} is too long.")
            parsed["request_uri_user_params"] = {
                key: _bounded_text(text, USER_PARAM_MAX, (*where, "request_uri_user_params", key))
                for key, text in params.items()
            }
        out["servers"].append(parsed)
    return out


def _weekly_hours(value: Any, path: Path) -> list[dict[str, str]]:
    entries = as_list(value, path)
    if not entries or len(entries) > HOURS_PER_DAY_MAX * len(DAYS_OF_WEEK):
        raise invalid_parameter(f"Param {param_name(path)} must have between 1 and 14 entries.")
    hours = []
    for index, item in enumerate(entries):
        where = (*path, index)
        entry = as_object(item, where)
        day = _enum(require(entry, "day_of_week", where), DAYS_OF_WEEK, (*where, "day_of_week"))
        opens = _clock_time(require(entry, "open_time", where), (*where, "open_time"))
        closes = _clock_time(require(entry, "close_time", where), (*where, "close_time"))
        if opens >= closes:
            raise invalid_parameter(f"Param {param_name(where)}: open_time must be before close_time.")
        hours.append({"day_of_week": day, "open_time": opens, "close_time": closes})
    if max(Counter(entry["day_of_week"] for entry in hours).values()) > HOURS_PER_DAY_MAX:
        raise invalid_parameter(f"Param {param_name(path)} allows at most {HOURS_PER_DAY_MAX} entries per day.")
    ordered = sorted(hours, key=lambda entry: (entry["day_of_week"], entry["open_time"]))
    for before, after in itertools.pairwise(ordered):
        if before["day_of_week"] == after["day_of_week"] and after["open_time"] < before["close_time"]:
            raise invalid_parameter(f"Param {param_name(path)} has overlapping entries on {before['day_of_week']}.")
    return hours


def _holidays(value: Any, path: Path) -> list[dict[str, str]]:
    entries = as_list(value, path)
    if len(entries) > HOLIDAYS_MAX:
        raise invalid_parameter(f"Param {param_name(path)} can have at most {HOLIDAYS_MAX} entries.")
    holidays = []
    for index, item in enumerate(entries):
        where = (*path, index)
        entry = as_object(item, where)
        date = require(entry, "date", where)
        if not isinstance(date, str) or not _DATE.fullmatch(date):
            raise invalid_parameter(f"Param {param_name((*where, 'date'))} must be a date as YYYY-MM-DD.")
        starts = _clock_time(require(entry, "start_time", where), (*where, "start_time"))
        ends = _clock_time(require(entry, "end_time", where), (*where, "end_time"))
        if starts >= ends:
            raise invalid_parameter(f"Param {param_name(where)}: start_time must be before end_time.")
        holidays.append({"date": date, "start_time": starts, "end_time": ends})
    return holidays


def _call_hours(value: Any, path: Path) -> dict[str, Any]:
    hours = as_object(value, path)
    out: dict[str, Any] = {"status": _enum(require(hours, "status", path), ON_OFF, (*path, "status"))}
    if hours.get("timezone_id") is not None or out["status"] == "ENABLED":
        out["timezone_id"] = _bounded_text(require(hours, "timezone_id", path), TIMEZONE_MAX, (*path, "timezone_id"))
    if hours.get("weekly_operating_hours") is not None or out["status"] == "ENABLED":
        where = (*path, "weekly_operating_hours")
        out["weekly_operating_hours"] = _weekly_hours(require(hours, "weekly_operating_hours", path), where)
    # Meta: a call_hours without holiday_schedule replaces the schedule with an empty one.
    out["holiday_schedule"] = _holidays(hours.get("holiday_schedule") or [], (*path, "holiday_schedule"))
    return out


def _calling(value: Any) -> dict[str, Any]:
    path: Path = ("calling",)
    calling = as_object(value, path)
    out: dict[str, Any] = {}
    _optional_enum(calling, "status", ON_OFF, path, out)
    _optional_enum(calling, "call_icon_visibility", CALL_ICON_VISIBILITY, path, out)
    _optional_enum(calling, "callback_permission_status", ON_OFF, path, out)
    _optional_enum(calling, "srtp_key_exchange_protocol", SRTP_KEY_EXCHANGE_PROTOCOLS, path, out)
    if calling.get("video") is not None:
        video = as_object(calling["video"], (*path, "video"))
        out["video"] = {"status": _enum(require(video, "status", (*path, "video")), ON_OFF, (*path, "video", "status"))}
    if calling.get("sip") is not None:
        out["sip"] = _sip(calling["sip"], (*path, "sip"))
    if calling.get("call_icons") is not None:
        icons = as_object(calling["call_icons"], (*path, "call_icons"))
        where = (*path, "call_icons", "restrict_to_user_countries")
        countries = as_list(icons.get("restrict_to_user_countries", []), where)
        if len(countries) > COUNTRIES_MAX or not all(isinstance(c, str) and _COUNTRY.fullmatch(c) for c in countries):
            raise invalid_parameter(f"Param {param_name(where)} must be at most {COUNTRIES_MAX} ISO country codes.")
        out["call_icons"] = {"restrict_to_user_countries": list(countries)}
    if calling.get("call_hours") is not None:
        out["call_hours"] = _call_hours(calling["call_hours"], (*path, "call_hours"))
    if not out:
        raise invalid_parameter("Param calling must set at least one calling setting.")
    return out


def _payload_encryption(value: Any) -> dict[str, Any]:
    path: Path = ("payload_encryption",)
    encryption = as_object(value, path)
    status = _enum(require(encryption, "status", path), ON_OFF, (*path, "status"))
    out: dict[str, Any] = {"status": status}
    if status == "ENABLED":
        key = _bounded_text(require(encryption, "client_encryption_key", path), ENCRYPTION_KEY_MAX,
                            (*path, "client_encryption_key"))  # fmt: skip
        try:
            base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError) as error:
            raise invalid_parameter("Param payload_encryption['client_encryption_key'] must be base64.") from error
        out["client_encryption_key"] = key
    return out


def _storage_configuration(value: Any) -> dict[str, Any]:
    path: Path = ("storage_configuration",)
    storage = as_object(value, path)
    if storage.get("status") is None and storage.get("enabled") is not None:
        # The OpenAPI description's form: `{"enabled": true, "region": "..."}`.
        enabled = as_bool(storage["enabled"], (*path, "enabled"))
        storage = {"status": "IN_COUNTRY_STORAGE_ENABLED" if enabled else "DEFAULT",
                   "data_localization_region": storage.get("region")}  # fmt: skip
    status = _enum(require(storage, "status", path), [s.value for s in StorageStatus], (*path, "status"))
    out: dict[str, Any] = {"status": status}
    if status == StorageStatus.IN_COUNTRY_STORAGE_ENABLED:
        region = require(storage, "data_localization_region", path)
        if not isinstance(region, str) or region.upper() not in DATA_LOCALIZATION_REGIONS:
            regions = ", ".join(sorted(DATA_LOCALIZATION_REGIONS))
            raise invalid_parameter(
                f"Param {param_name((*path, 'data_localization_region'))} must be one of {regions}."
            )
        out["data_localization_region"] = region.upper()
    elif status == StorageStatus.NO_STORAGE_ENABLED:
        minutes = storage.get("retention_minutes", RETENTION_MINUTES)
        out["retention_minutes"] = _bounded_int(minutes, RETENTION_MINUTES, RETENTION_MINUTES,
                                                (*path, "retention_minutes"))  # fmt: skip
    return out


def _user_identity_change(value: Any) -> bool:
    path: Path = ("user_identity_change",)
    change = as_object(value, path)
    key = "enable_identity_key_check" if "enable_identity_key_check" in change else "enabled"
    return as_bool(require(change, key, path), (*path, key))


PARSERS = {
    Feature.CALLING: _calling,
    Feature.PAYLOAD_ENCRYPTION: _payload_encryption,
    Feature.STORAGE_CONFIGURATION: _storage_configuration,
    Feature.USER_IDENTITY_CHANGE: _user_identity_change,
}


def parse_update(body: object) -> UpdatePhoneNumberSettings:
    request: dict[str, Any] = body if isinstance(body, dict) else {}
    features = [feature for feature in Feature if request.get(feature.value) is not None]
    if not features:
        names = ", ".join(feature.value for feature in Feature)
        raise invalid_parameter(f"One of the parameters {names} is required.")
    if len(features) > 1:
        raise invalid_parameter("Only one feature setting can be specified per request.")
    feature = features[0]
    return UpdatePhoneNumberSettings(feature, PARSERS[feature](request[feature.value]))


async def get_settings(graph: GraphRequest) -> Response:
    document = phone_number_settings.phone_number_settings(graph.tenant, graph.node).graph_fields()
    names = requested_fields(graph.query.get("fields"), list(document))
    for name in names:
        if name not in document:
            raise graph_param_error(f"Tried accessing nonexisting field ({name}) on node type ({NODE_TYPE})")
    return graph.respond({name: document[name] for name in names})


async def update_settings(graph: GraphRequest) -> Response:
    command = parse_update(await graph.body())
    phone_number_settings.update_phone_number_settings(graph.tenant, graph.node, command)
    return graph.respond({"success": True})


routes = [
    GraphRoute("phone_number", "settings", "GET", get_settings),
    GraphRoute("phone_number", "settings", "POST", update_settings),
]
