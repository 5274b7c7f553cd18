"""The officer's settings file: ``config.toml`` in the per-user config folder.

Like jrnl's and git's, it holds defaults a person sets once (``fieldlog config set hood
Eastside``): every key is listed in :data:`KEYS` with its type and what it sets, and a value is
checked when it is set and again when it is read (a hand-edited file with a bad value is one
clear line naming the file and the key). The file is read only when a command asks for a key,
and at most once per run; a missing file means every default.

``FIELDLOG_CONFIG`` names another file (tests, a shared laptop profile). Where each setting
is used, and what beats it (an option, the log's own value, an environment variable), is
docs/config.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fieldlog import settings
from fieldlog.errors import SettingError
from fieldlog.text import control_chars

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
        if control_chars(text) or len(text) > MAX_TEXT:
            raise SettingError(
                f"{where}: {self.name} must be one line of at most {MAX_TEXT} characters, "
                "without control characters"
            )
        if self.choices and text not in self.choices:
            raise SettingError(
                f"{where}: {self.name} must be one of {', '.join(self.choices)}, not {text!r}"
            )
        return text


MAX_TEXT = 200  # a name, a neighborhood, a path or URL: one line

KEYS: dict[str, Key] = {
    k.name: k
    for k in (
        Key(
            "officer",
            str,
            "Your name, as `fieldlog init` puts it on a new log.",
        ),
        Key(
            "hood",
            str,
            "The neighborhood `add` and the form use when none is given.",
        ),
        Key(
            "remote",
            str,
            "The remote `sync` uses when none is named (a saved name, a path or a URL).",
        ),
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
            "Idle minutes before the TUI locks an encrypted log (0: never).",
            low=0,
            high=24 * 60,
        ),
        Key(
            "theme",
            str,
            "The TUI's colour theme (a Textual theme name, e.g. nord, gruvbox).",
        ),
        Key(
            "date_order",
            str,
            "How 11/12 is read: mdy (November 12), dmy (11 December), auto (the locale's).",
            choices=("auto", "mdy", "dmy"),
        ),
    )
}

_cache: dict[Path, dict[str, Any]] = {}


def config_path() -> Path:
    """``$FIELDLOG_CONFIG``, else ``config.toml`` in the per-user config folder."""
    override = settings.path_setting(CONFIG_ENV, folder=False)
    if override is not None:
        return override
    import platformdirs  # lazy: only when a setting is asked for

    return Path(platformdirs.user_config_dir("fieldlog", appauthor=False)) / FILENAME


def _load(path: Path) -> dict[str, Any]:
    if path in _cache:
        return _cache[path]
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        data: dict[str, Any] = {}
    except IsADirectoryError:
        raise SettingError(
            f"The settings file {path} is a folder: remove it, or set {CONFIG_ENV} to a file"
        ) from None
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


def unknown() -> list[str]:
    """Names in the file that are no setting (a typo such as ``hod``): `config list` warns."""
    return [n for n in _load(config_path()) if n not in KEYS]


def key(name: str) -> Key:
    """The setting ``name``, or a SettingError listing them (and the closest one)."""
    found = KEYS.get(name.strip().lower())
    if found is not None:
        return found
    import difflib

    close = difflib.get_close_matches(name.strip().lower(), list(KEYS), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise SettingError(f"There is no setting {name!r}{hint}: use one of {', '.join(KEYS)}")


def set_value(name: str, value: str | None) -> Path:
    """Write ``name = value`` to the file (``None`` removes the key); returns the file's path.

    The file is rewritten whole (comments in it are not kept), through a ``.part`` file
    renamed over it, so a crash never leaves half a file; the other keys, unknown ones too,
    are kept as they were."""
    k = key(name)
    path = config_path()
    data = dict(_load(path))
    if value is None:
        data.pop(k.name, None)
    else:
        data[k.name] = k.check(value, "Not saved")
    import tomli_w

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(path.name + ".part")
        part.write_text(tomli_w.dumps(data), encoding="utf-8")
        os.replace(part, path)
    except OSError as exc:
        raise SettingError(
            f"Cannot write the settings file {path}: {exc.strerror} (set {CONFIG_ENV} to "
            "a file you may write)"
        ) from None
    _cache.pop(path, None)
    return path


def clear_cache() -> None:
    """Forget what was read (tests that change the file or ``FIELDLOG_CONFIG`` in one process)."""
    _cache.clear()
