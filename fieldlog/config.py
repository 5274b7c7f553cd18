"""The officer's settings file: ``config.toml`` in the per-user config folder.

Like jrnl's and git's, it holds defaults a person sets once (``fieldlog config set hood
Eastside``): every key is listed in :data:`KEYS` with its type and what it sets, and a value is
checked when it is set and again when it is read (a hand-edited file with a bad value is one
clear line naming the file and the key). The file is read only when a command asks for a key,
and at most once per run; a missing file means every default.

``FIELDLOG_CONFIG`` names another file (tests, a shared laptop profile).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fieldlog.errors import SettingError

CONFIG_ENV = "FIELDLOG_CONFIG"
FILENAME = "config.toml"


@dataclass(frozen=True)
class Key:
    name: str
    kind: type  # str or int
    help: str
    choices: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None

    def check(self, value: Any, where: str) -> Any:
        """``value`` as this key's type, or a SettingError naming ``where`` and the fix."""
        if self.kind is int:
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise SettingError(f"{where}: {self.name} must be a whole number")
            try:
                number = int(value)
            except ValueError:
                raise SettingError(
                    f"{where}: {self.name} must be a whole number, not {value!r}"
                ) from None
            if (self.low is not None and number < self.low) or (
                self.high is not None and number > self.high
            ):
                raise SettingError(
                    f"{where}: {self.name} must be between {self.low} and {self.high}, not {number}"
                )
            return number
        if not isinstance(value, str) or not value.strip():
            raise SettingError(f"{where}: {self.name} must be a non-empty text")
        text = value.strip()
        if self.choices and text not in self.choices:
            raise SettingError(
                f"{where}: {self.name} must be one of {', '.join(self.choices)}, not {text!r}"
            )
        return text


KEYS: dict[str, Key] = {
    k.name: k
    for k in (
        Key("officer", str, "Your name, as `fieldlog init` puts it on a new log."),
        Key("hood", str, "The neighborhood `add` and the form use when none is given."),
        Key("remote", str, "The saved remote `fieldlog sync` uses when none is named."),
        Key(
            "follow_up_days",
            int,
            "Days until a new referral's follow-up when none is given.",
            low=0,
            high=365,
        ),
        Key(
            "lock_minutes",
            int,
            "Idle minutes before the TUI locks (0: never).",
            low=0,
            high=24 * 60,
        ),
        Key("theme", str, "The TUI's colour theme (a Textual theme name)."),
        Key(
            "date_order",
            str,
            "How 11/12 is read: mdy (November 12), dmy (11 December), or auto (from the locale).",
            choices=("auto", "mdy", "dmy"),
        ),
    )
}

_cache: dict[Path, dict[str, Any]] = {}


def config_path() -> Path:
    """``$FIELDLOG_CONFIG``, else ``config.toml`` in the per-user config folder."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs  # lazy: only when a setting is asked for

    return Path(platformdirs.user_config_dir("fieldlog", appauthor=False)) / FILENAME


def _load(path: Path) -> dict[str, Any]:
    if path in _cache:
        return _cache[path]
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        data: dict[str, Any] = {}
    except OSError as exc:
        raise SettingError(f"Cannot read the settings file {path}: {exc.strerror}") from None
    else:
        import tomllib

        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise SettingError(
                f"The settings file {path} is not valid TOML ({exc}): fix it or remove it"
            ) from None
    _cache[path] = data
    return data


def get(name: str, default: Any = None) -> Any:
    """The value of setting ``name`` (checked), or ``default`` when the file does not set it."""
    key = KEYS[name]
    path = config_path()
    data = _load(path)
    if name not in data:
        return default
    return key.check(data[name], f"In {path}")


def values() -> dict[str, Any]:
    """Every setting the file sets (checked), by name; unknown names are left out."""
    path = config_path()
    return {n: KEYS[n].check(v, f"In {path}") for n, v in _load(path).items() if n in KEYS}


def set_value(name: str, value: str | None) -> Path:
    """Write ``name = value`` to the file (``None`` removes the key); returns the file's path."""
    if name not in KEYS:
        raise SettingError(f"There is no setting {name!r}: use one of {', '.join(KEYS)}")
    path = config_path()
    data = dict(_load(path))
    if value is None:
        data.pop(name, None)
    else:
        data[name] = KEYS[name].check(value, "The value")
    import tomli_w

    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.write_text(tomli_w.dumps(data), encoding="utf-8")
    os.replace(part, path)
    _cache.pop(path, None)
    return path


def clear_cache() -> None:
    """Forget what was read (tests that change the file or ``FIELDLOG_CONFIG`` in one process)."""
    _cache.clear()
