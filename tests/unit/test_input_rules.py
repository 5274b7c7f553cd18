"""The record rules on text and words (fieldlog/models.py, fieldlog/records.py): control
characters refused in every text field (line breaks kept in long text, folded in one-line
fields), "did you mean" for vocabulary words, and messages that agree with plural fields."""

from __future__ import annotations

import pytest

from fieldlog import models, records
from fieldlog.errors import ValidationError

TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"


def refused(table: str, values: dict) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        records.clean(table, values)
    return err.value


# ---------------------------------------------------------------------- control characters
@pytest.mark.parametrize(
    ("table", "values", "field"),
    [
        ("contacts", {"summary": f"Met {CLEAR}Reyes"}, "summary"),
        ("contacts", {"summary": "ok", "person_name": f"Ana{TITLE}"}, "person_name"),
        ("contacts", {"summary": "ok", "location": "5th\x00Main"}, "location"),
        ("contacts", {"summary": "ok", "neighborhood": "East\x9bside"}, "neighborhood"),  # C1 CSI
        ("contacts", {"summary": "ok", "notes": f"two\nlines {CLEAR}"}, "notes"),
        ("concerns", {"category": "noise", "description": f"loud{TITLE}"}, "description"),
        ("referrals", {"agency": f"Parks{CLEAR}"}, "agency"),
        ("referrals", {"agency": "Parks", "outcome": "done\x1b"}, "outcome"),
        ("organizations", {"name": "Food Bank", "phone": "555\x08\x08\x08"}, "phone"),
        ("organizations", {"name": "Food Bank", "notes": "evil \u202egnp.exe"}, "notes"),
    ],
)
def test_control_characters_are_refused_naming_the_field(table, values, field):
    err = refused(table, values)
    assert err.field == field
    msg = str(err)
    assert msg.startswith(f"The {field.replace('_', ' ')} ")
    assert "control character" in msg and ": remove" in msg
    assert "\x1b" not in msg and "\x00" not in msg  # the message itself is safe to print


def test_the_message_shows_the_character_and_the_fix():
    err = refused("contacts", {"summary": f"hi {TITLE}"})
    assert str(err) == (
        "The summary holds control characters (\\x07, \\x1b), which a terminal could act on: "
        "remove them."
    )
    err = refused("contacts", {"summary": "ok", "notes": "a\x1bb"})
    assert str(err) == (
        "The notes hold a control character (\\x1b), which a terminal could act on: remove it."
    )


def test_long_text_keeps_line_breaks_and_tabs():
    clean = records.clean(
        "contacts", {"summary": "ok", "notes": "line one\r\nline two\n\tindented\rold mac"}
    )
    assert clean["notes"] == "line one\nline two\n\tindented\nold mac"
    concern = records.clean("concerns", {"category": "noise", "description": "a\nb"})
    assert concern["description"] == "a\nb"


def test_one_line_fields_fold_line_breaks_into_a_space():
    clean = records.clean("contacts", {"summary": "two\nline  summary\r\n x\ty"})
    assert clean["summary"] == "two line  summary x y"  # double spaces inside are kept
    assert records.clean("referrals", {"agency": "Parks\nDept"})["agency"] == "Parks Dept"


def test_tags_refuse_control_characters():
    with pytest.raises(ValidationError, match=r"The tag 'a\\x1bb' holds a control character"):
        models.tag_list(["a\x1bb"])


def test_the_store_officer_name_too():
    with pytest.raises(ValidationError, match="The officer holds a control character"):
        models.text("officer", f"Sgt {CLEAR}", limit=models.MAX_SHORT)


# ---------------------------------------------------------------------- did you mean
@pytest.mark.parametrize(
    ("field", "typed", "allowed", "hint"),
    [
        ("kind", "resdent", models.CONTACT_KINDS, "did you mean resident? Use one of resident,"),
        ("kind", "res", models.CONTACT_KINDS, "did you mean resident? Use one of"),
        ("kind", "buisness", models.CONTACT_KINDS, "did you mean business?"),
        ("category", "noize", models.CONCERN_CATEGORIES, "did you mean noise?"),
        ("category", "mental helth", models.CONCERN_CATEGORIES, "did you mean mental_health?"),
        ("category", "health", models.CONCERN_CATEGORIES, "did you mean mental_health?"),
        ("category", "substance", models.CONCERN_CATEGORIES, "did you mean substance_use?"),
        ("priority", "hgih", models.PRIORITIES, "did you mean high?"),
        ("status", "resovled", models.CONCERN_STATUSES, "did you mean resolved?"),
        ("status", "in progres", models.CONCERN_STATUSES, "did you mean in_progress?"),
        ("status", "complete", models.REFERRAL_STATUSES, "did you mean completed?"),
        ("service", "houseing", models.REFERRAL_SERVICES, "did you mean housing?"),
        ("kind", "o", models.CONTACT_KINDS, "did you mean organization or other?"),
    ],
)
def test_unknown_words_suggest_the_near_ones(field, typed, allowed, hint):
    with pytest.raises(ValidationError) as err:
        models.choice(field, typed, allowed)
    msg = str(err.value)
    assert msg.startswith(f"Unknown {field} '{typed}': {hint}")
    assert msg.endswith(f"one of {', '.join(allowed)}.")


def test_a_word_nothing_like_any_gets_the_list_only():
    with pytest.raises(ValidationError) as err:
        models.choice("kind", "suspect", models.CONTACT_KINDS)
    assert str(err.value).startswith("Unknown kind 'suspect': use one of resident, business")


def test_services_of_a_partner_suggest_too():
    err = refused("organizations", {"name": "Food Bank", "services": ["fod"]})
    assert "Unknown service 'fod': did you mean food?" in str(err)


def test_an_unknown_word_is_shown_safely():
    with pytest.raises(ValidationError) as err:
        models.choice("kind", f"{TITLE}x", models.CONTACT_KINDS)
    assert "\x1b" not in str(err.value) and "\\x1b]0;pwned\\x07x" in str(err.value)


def test_difflib_only_on_the_error_path():
    import subprocess
    import sys

    code = (
        "import sys; from fieldlog import records; "
        "records.clean('contacts', {'summary': 'x', 'kind': 'event'}); "
        "print('difflib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------- grammar
def test_plural_fields_take_plural_verbs():
    with pytest.raises(ValidationError) as err:
        records.clean("contacts", {"summary": "ok", "notes": "x" * (models.MAX_TEXT + 1)})
    assert str(err.value) == "The notes are 4001 characters long: keep them under 4000."
    with pytest.raises(ValidationError) as err:
        records.clean("contacts", {"summary": "x" * 501})
    assert str(err.value) == "The summary is 501 characters long: keep it under 500."
    assert models.the("notes", "is") == "The notes are"
    assert models.the("person_name", "holds") == "The person name holds"


def test_an_unknown_field_is_named_plainly():
    err = refused("contacts", {"summary": "ok", "colour": "red"})
    assert str(err).startswith("A contact has no field 'colour': its fields are occurred_at,")
