"""Settings from the environment and `.env` (see `.env.example`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.i18n import N_, SUPPORTED

Translate = Callable[[str], str]


class SettingsError(Exception):
    """Settings missing or invalid: one problem per variable, each `(VARIABLE, message id,
    parameters)`, so that the command line says it in the city's language (`text(_)`);
    `str()` is the English."""

    def __init__(self, *problems: tuple[str, str, dict[str, object]]) -> None:
        self.problems = problems
        super().__init__(self.text())

    def text(self, _: Translate = str) -> str:
        return "; ".join(f"{name}: {_fill(_(msg), params)}" for name, msg, params in self.problems)


class Problem(ValueError):
    """A validator's refusal with parameters, translatable like any message."""

    def __init__(self, msg: str, **params: object) -> None:
        self.msg, self.params = msg, params
        super().__init__(_fill(msg, params))


def _fill(text: str, params: dict[str, object]) -> str:
    return text.format(**params) if params else text


# pydantic's own refusals, by error type, in words the catalogues hold: every type a
# setting read from the environment can meet (and the usual others), so that no refusal
# reaches an administrator in pydantic's English; any other is `_ANY_OTHER`.
_WEB_ADDRESS = N_("must be a web address (https://…)")
_LIST = N_("must be values separated by commas")
_PYDANTIC = {
    "less_than_equal": N_("must be at most {le}"),
    "less_than": N_("must be less than {lt}"),
    "greater_than_equal": N_("must be at least {ge}"),
    "greater_than": N_("must be more than {gt}"),
    "multiple_of": N_("must be a multiple of {multiple_of}"),
    "int_parsing": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "int_type": N_("must be a whole number"),
    "int_parsing_size": N_("is too large a number"),
    "float_parsing": N_("must be a number"),
    "float_type": N_("must be a number"),
    "finite_number": N_("must be a finite number"),
    "decimal_parsing": N_("must be a number"),
    "bool_parsing": N_("must be true or false"),
    "bool_type": N_("must be true or false"),
    "string_type": N_("must be text"),
    "string_too_short": N_("must be at least {min_length} characters long"),
    "string_too_long": N_("must be at most {max_length} characters long"),
    "string_pattern_mismatch": N_("is not in the expected form"),
    "string_unicode": N_("must be text in UTF-8"),
    "url_parsing": _WEB_ADDRESS,
    "url_scheme": _WEB_ADDRESS,
    "url_type": _WEB_ADDRESS,
    "url_syntax_violation": _WEB_ADDRESS,
    "url_too_long": N_("is too long for a web address (at most {max_length} characters)"),
    "missing": N_("is required"),
    "enum": N_("must be one of {expected}"),
    "literal_error": N_("must be one of {expected}"),
    "json_invalid": N_("is not valid JSON"),
    "list_type": _LIST,
    "tuple_type": _LIST,
    "set_type": _LIST,
    "frozen_set_type": _LIST,
    "iterable_type": _LIST,
    "too_short": N_("must have at least {min_length} values"),
    "too_long": N_("must have at most {max_length} values"),
    "extra_forbidden": N_("is not a setting branchbot knows"),
}
_ANY_OTHER = N_("is not a value this setting takes")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    telegram_api_base: AnyHttpUrl | None = None
    database_url: str = "sqlite+aiosqlite:///branchbot.db"
    redis_url: str | None = None
    superuser_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    default_locale: str = "zh_Hans"
    timezone: str = "Asia/Shanghai"
    webhook_url: AnyHttpUrl | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8081, ge=1, le=65535)
    webhook_path: str = "/telegram/webhook"
    rubric_dir: str | None = None
    invite_ttl_days: int = Field(default=30, ge=0, le=3650)
    # Democratic evaluation: fewest ballots for counts to be shown; objection window.
    eval_min_voters: int = Field(default=5, ge=1, le=1000)
    eval_objection_days: int = Field(default=5, ge=1, le=60)
    # Delivery of unprompted messages (the outbox): Telegram's flood limits.
    send_per_second: float = Field(default=30.0, gt=0, le=10_000)
    send_private_per_second: float = Field(default=1.0, gt=0, le=100)
    send_group_per_minute: float = Field(default=20.0, gt=0, le=6_000)
    # The calendar: reminder days of the month, local time of reminders, quiet hours.
    reminder_days: Annotated[tuple[int, ...], NoDecode] = (10, 20, 25)
    reminder_hour: int = Field(default=9, ge=0, le=23)
    quiet_hours: str = "21:00-08:00"
    reminder_grace_hours: int = Field(default=12, ge=1, le=72)

    @field_validator("superuser_ids", mode="before")
    @classmethod
    def _parse_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            try:
                return frozenset(int(p) for p in parts)
            except ValueError:
                raise ValueError(
                    N_("must be Telegram user ids (whole numbers) separated by commas")
                ) from None
        return value

    @field_validator("reminder_days", mode="before")
    @classmethod
    def _days(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                value = tuple(int(p) for p in value.replace(";", ",").split(",") if p.strip())
            except ValueError:
                raise ValueError(N_("must be days of the month separated by commas")) from None
        if isinstance(value, (tuple, list)):
            if any(not 1 <= int(d) <= 28 for d in value):
                raise ValueError(N_("days must be between 1 and 28 (every month has them)"))
            return tuple(sorted(set(int(d) for d in value)))
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str) -> str:
        from bot.services.calendar import parse_quiet_hours

        parse_quiet_hours(value)
        return value.strip()

    @field_validator("default_locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if value not in SUPPORTED:
            raise Problem(N_("must be one of {values}"), values=", ".join(SUPPORTED))
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(N_("is not a known time zone (e.g. Asia/Shanghai)")) from None
        return value

    @field_validator("database_url")
    @classmethod
    def _db(cls, value: str) -> str:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite:///"):
            value = "sqlite+aiosqlite:///" + value.split(":///", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(N_("must be sqlite+aiosqlite:///FILE or postgresql+asyncpg://…"))
        if value.startswith("sqlite+aiosqlite:///"):
            file = value.removeprefix("sqlite+aiosqlite:///").split("?", 1)[0]
            folder = Path(file).parent
            if file not in ("", ":memory:") and not folder.is_dir():
                raise Problem(N_("the folder {folder} does not exist"), folder=str(folder))
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def require_token(self) -> str:
        if self.bot_token is None or not self.bot_token.get_secret_value().strip():
            raise SettingsError(
                ("BOT_TOKEN", N_("required to run the bot (the token from @BotFather)"), {})
            )
        token = self.bot_token.get_secret_value().strip()
        head, _, tail = token.partition(":")
        if not head.isdigit() or not tail:
            raise SettingsError(
                ("BOT_TOKEN", N_("malformed (expected digits, a colon, then the secret)"), {})
            )
        return token

    def require_webhook_secret(self) -> str:
        if self.webhook_secret is None:
            raise SettingsError(("WEBHOOK_SECRET", N_("required when WEBHOOK_URL is set"), {}))
        secret = self.webhook_secret.get_secret_value()
        ok = 1 <= len(secret) <= 256 and all(c.isalnum() or c in "_-" for c in secret)
        if not ok:
            raise SettingsError(
                ("WEBHOOK_SECRET", N_("1–256 characters of A–Z, a–z, 0–9, _ and -"), {})
            )
        return secret


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning pydantic's report into one line per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(*(_problem(err) for err in exc.errors())) from None


def _problem(err) -> tuple[str, str, dict[str, object]]:
    name = str(err["loc"][0]).upper() if err["loc"] else "SETTINGS"
    ctx = err.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, Problem):
        return name, cause.msg, cause.params
    if err["type"] == "value_error":
        return name, str(cause), {}  # a validator's own words, marked with N_ there
    msg, params = pydantic_problem(err)
    return name, msg or _ANY_OTHER, params


def pydantic_problem(err) -> tuple[str | None, dict[str, object]]:
    """One of pydantic's own refusals as a message id and its parameters (None: not one
    the catalogues hold)."""
    ctx = err.get("ctx") or {}
    return _PYDANTIC.get(err["type"]), {k: _plain(v) for k, v in ctx.items()}


def _plain(value: object) -> str:
    """A bound as a person writes it: 10000, not 10000.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
