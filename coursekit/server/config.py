"""The server's settings: options of ``coursekit serve``, or a small TOML file, or both (options win).

    # course-server.toml
    [server]
    root = "."                                # the course folder (its solutions/ hold the tests)
    gradebook = "grading/gradebook.sqlite"
    host = "127.0.0.1"
    port = 8000
    workers = 2                               # grading processes
    public_url = "https://course.example.org" # what learners type, when a reverse proxy serves HTTPS
    cluster = "tcp://scheduler:8786"          # grade on this Dask cluster (default: on this machine)

    [deadlines]                               # per lesson; a time without an offset is UTC
    "01_chain_rule" = 2026-10-09T23:59:00+09:00
    "02_computation_graphs" = "2026-10-16T23:59:00Z"
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from coursekit.grading.limits import MAX_NOTEBOOK_BYTES, Settings


class ConfigError(ValueError):
    """A setting that cannot be used, said in plain words (the file or option, and what is wrong)."""


@dataclass(frozen=True)
class ServerConfig:
    """Everything the server needs to run."""

    root: Path = Path(".")
    gradebook: Path = Path("grading/gradebook.sqlite")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    public_url: str | None = None
    deadlines: dict[str, dt.datetime] = field(default_factory=dict)  # lesson -> aware time
    # An upload: a notebook, or a submission zip holding one (its manifest is small), never more than the intake
    # would read of a notebook (limits.MAX_NOTEBOOK_BYTES).
    max_upload_bytes: int = MAX_NOTEBOOK_BYTES
    submissions_per_minute: int = 10  # per student; a burst at the deadline is a few each
    # per student, in any 24 hours: what is stored of uploads (2,000 honest notebooks; 16 MiB ten times a minute
    # would have added 240 GB a day)
    upload_bytes_per_day: int = 256 * 1024 * 1024
    logins_per_minute: int = 20  # per client address (tokens cannot be guessed; this spares the server)
    session_hours: float = 12.0
    grading: Settings = field(default_factory=Settings)
    sandbox: str | None = None  # the socket of a running sandbox server for the workers (default: the shared one)
    cluster: str | None = None  # a Dask scheduler's address: the workers grade there (default: on this machine)
    poll_seconds: float = 0.05  # how often an idle worker looks at the queue

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def url(self) -> str:
        """Where learners reach the server: ``public_url`` when set, else the address it listens on."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over HTTPS when learners reach the server by HTTPS (a reverse proxy in front)."""
        return (self.public_url or "").startswith("https://")

    def deadline(self, lesson: str) -> dt.datetime | None:
        return self.deadlines.get(lesson)

    def is_late(self, lesson: str, received: dt.datetime) -> bool:
        """True when ``received`` (aware) is after the lesson's deadline; never late without one."""
        deadline = self.deadlines.get(lesson)
        return deadline is not None and received > deadline


def load(path: Path | str | None = None, **options) -> ServerConfig:
    """The settings in the TOML file at ``path`` (when given), then ``options`` that are not None on top.

    ``deadlines`` in options: a dict lesson -> time (text or datetime), added to the file's.
    """
    values: dict = {}
    deadlines: dict[str, dt.datetime] = {}
    if path is not None:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(f"{path}: {error}") from error
        server = data.get("server", {})
        unknown = set(server) - _FIELDS
        if unknown:
            raise ConfigError(f"{path}: unknown settings in [server]: {', '.join(sorted(unknown))} "
                              f"(known: {', '.join(sorted(_FIELDS))})")
        values.update(server)
        base = path.parent
        for key in ("root", "gradebook"):  # relative to the file, so that it works from any folder
            if key in values:
                values[key] = base / Path(values[key])
        deadlines.update(_deadlines(data.get("deadlines", {}), str(path)))
    extra = options.pop("deadlines", None) or {}
    values.update({key: value for key, value in options.items() if value is not None})
    deadlines.update(_deadlines(extra, "--deadline"))
    for key in ("root", "gradebook"):
        if key in values:
            values[key] = Path(values[key])
    for key in ("port", "workers"):
        if key in values and not isinstance(values[key], int):
            raise ConfigError(f"{key} must be a whole number, not {values[key]!r}")
    if "cluster" in values and not (isinstance(values["cluster"], str) and "://" in values["cluster"]):
        raise ConfigError(f"cluster must be a Dask scheduler's address, as tcp://scheduler:8786, not "
                          f"{values['cluster']!r}")
    config = replace(ServerConfig(), **values, deadlines=deadlines)
    if not config.solutions.is_dir():
        raise ConfigError(f"{config.root} is not a course folder: it has no solutions/ (give --root)")
    if not config.gradebook.is_absolute():
        config = replace(config, gradebook=Path(os.path.abspath(config.gradebook)))
    return config


_FIELDS = {"root", "gradebook", "host", "port", "workers", "public_url", "max_upload_bytes", "submissions_per_minute",
           "upload_bytes_per_day", "logins_per_minute", "session_hours", "sandbox", "cluster"}


def _deadlines(table: object, where: str) -> dict[str, dt.datetime]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [deadlines] must be a table of lesson = time")
    return {str(lesson): parse_time(value, f"{where}: the deadline of {lesson}") for lesson, value in table.items()}


def parse_time(value: object, what: str) -> dt.datetime:
    """A deadline as an aware time: a TOML date-time or ISO 8601 text; one without an offset is UTC; a bare date
    is its end (23:59:59.999999 UTC)."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError as error:
            raise ConfigError(f"{what} is not an ISO 8601 time (2026-10-09T23:59:00+09:00): {value!r}") from error
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time.max)
    if not isinstance(value, dt.datetime):
        raise ConfigError(f"{what} is not a time: {value!r}")
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def deadline_options(texts: tuple[str, ...]) -> dict[str, str]:
    """``--deadline LESSON=TIME`` options as a dict (ConfigError for one without ``=``)."""
    out = {}
    for text in texts:
        lesson, sep, when = text.partition("=")
        if not sep or not lesson.strip():
            raise ConfigError(f"--deadline takes LESSON=TIME, as 01_chain_rule=2026-10-09T23:59+09:00; not {text!r}")
        out[lesson.strip()] = when.strip()
    return out
