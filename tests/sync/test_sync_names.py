"""``fieldlog sync dept2`` (a typo for the saved remote ``dept``) pushed the whole log into a new
file ``./dept2`` (issue 11). A bare word is only ever a saved remote's name; a new file remote
is made from a path that says it is one (``./dept2``, ``/...``, ``~/...``, ``C:\\...``) or by
``fieldlog remote add``."""

from __future__ import annotations

import pytest

from fieldlog.db.remotes.types import target_kind
from fieldlog.sync import NoRemoteError, choose


@pytest.fixture
def here(tmp_path, monkeypatch):
    """The officer's shell is in a folder of its own (where ``./dept2`` would appear)."""
    folder = tmp_path / "shell"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_a_typo_for_a_saved_remote_is_refused_with_the_names(cli, here, tmp_path):
    cli("add", "hello")
    cli("remote", "add", "dept", str(tmp_path / "dept.fieldlog"))
    cli("remote", "add", "county", str(tmp_path / "county.fieldlog"))
    r = cli("sync", "dept2", code=1)
    assert r.stderr == (
        "Error: There is no saved remote called 'dept2' (did you mean dept?): the saved ones "
        "are county, dept. To sync with a file, give its path (./dept2) or save it with  "
        "fieldlog remote add NAME PATH.\n"
    )
    assert list(here.iterdir()) == []
    assert not (tmp_path / "dept.fieldlog").exists()  # nothing synced at all


def test_without_saved_remotes_the_word_is_refused_too(cli, here):
    cli("add", "hello")
    r = cli("sync", "dept", code=1)
    assert "There is no saved remote called 'dept' (none is saved yet)" in r.stderr
    assert "fieldlog remote add dept PATH-or-URL" in r.stderr
    assert list(here.iterdir()) == []


def test_a_bare_word_naming_an_existing_file_is_still_a_name(cli, here):
    """The rule is the form, not what happens to lie around: ``./x`` says it is a file."""
    cli("add", "hello")
    (here / "dept.fieldlog").write_bytes(b"")
    r = cli("sync", "dept.fieldlog", code=1)
    assert "give a path (./dept.fieldlog)" in r.stderr


def test_an_explicit_path_makes_a_new_file_remote(cli, here, tmp_path, monkeypatch):
    cli("add", "hello")
    (res,) = cli.json("sync", "./dept2")
    assert res["pushed"] == 1 and (here / "dept2").is_file()
    monkeypatch.setenv("HOME", str(tmp_path))
    (res,) = cli.json("sync", "~/home.fieldlog")
    assert res["pushed"] == 1 and (tmp_path / "home.fieldlog").is_file()
    (here / "share").mkdir()
    (res,) = cli.json("sync", "share/dept.fieldlog")
    assert (here / "share" / "dept.fieldlog").is_file()
    (res,) = cli.json("sync", f"sqlite://{tmp_path / 'url.fieldlog'}")
    assert (tmp_path / "url.fieldlog").is_file()


def test_a_saved_name_beats_a_file_of_the_same_name(cli, here, tmp_path):
    cli("add", "hello")
    cli("remote", "add", "dept", str(tmp_path / "dept.fieldlog"))
    (res,) = cli.json("sync", "DEPT")
    assert res["remote"] == "dept" and (tmp_path / "dept.fieldlog").is_file()
    assert list(here.iterdir()) == []


def test_another_url_is_refused(cli):
    cli("add", "hello")
    r = cli("sync", "https://dept.example/sync", code=1)
    assert "is neither a file path nor a postgresql:// URL" in r.stderr


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("dept", "word"),
        ("dept2", "word"),
        ("dept.fieldlog", "word"),
        ("my-dept_2", "word"),
        ("./dept2", "path"),
        ("../dept2", "path"),
        (".\\dept2", "path"),
        ("/media/share/dept.fieldlog", "path"),
        ("~/dept.fieldlog", "path"),
        ("~", "path"),
        ("share/dept.fieldlog", "path"),
        ("C:\\share\\dept.fieldlog", "path"),
        ("c:/share/dept.fieldlog", "path"),
        ("\\\\server\\share\\dept.fieldlog", "path"),
        ("sqlite:///srv/dept.fieldlog", "path"),
        ("postgresql://fl@db/fieldlog", "postgres"),
        ("postgres://fl@db/fieldlog", "postgres"),
        ("https://dept.example", "url"),
        ("file:///srv/dept.fieldlog", "url"),
    ],
)
def test_what_a_remote_argument_is_by_its_form(text, kind):
    assert target_kind(text) == kind


def test_choose_in_the_domain():
    saved = {"dept": "/srv/dept.fieldlog", "county": "postgresql://fl@db/c"}
    assert choose(saved, None) == list(saved.items())
    assert choose(saved, "Dept") == [("dept", "/srv/dept.fieldlog")]
    assert choose(saved, None, default="county") == [("county", "postgresql://fl@db/c")]
    assert choose(saved, "./x", default="county") == [("./x", "./x")]
    assert choose({}, "postgresql://fl:pw@db/x") == [
        ("postgresql://fl:***@db/x", "postgresql://fl:pw@db/x")
    ]
    with pytest.raises(NoRemoteError, match="did you mean county"):
        choose(saved, "countyy")
    with pytest.raises(NoRemoteError, match="No remote is set up"):
        choose({}, None)
    with pytest.raises(NoRemoteError, match=r"'x' \(the remote set in F\)"):
        choose(saved, None, default="x", default_from="F")


# ---------------------------------------------------------------------- remote add
def test_remote_add_takes_a_bare_word_as_a_file_here(cli, here):
    r = cli("remote", "add", "dept", "dept.fieldlog")
    assert f"{here / 'dept.fieldlog'} (a new file, made on the first sync)" in r.stdout
    assert cli.json("remote", "list") == [{"name": "dept", "url": str(here / "dept.fieldlog")}]
    assert not (here / "dept.fieldlog").exists()  # made by the first sync, not by saving
    cli("add", "hello")
    cli("sync", "dept")
    assert (here / "dept.fieldlog").is_file()
    r = cli("remote", "add", "again", "dept.fieldlog")
    assert "(a new file" not in r.stdout


@pytest.mark.parametrize("name", ["./dept", "/srv/dept", "~/dept", "share/dept"])
def test_remote_add_refuses_a_name_that_looks_like_a_path(cli, name):
    r = cli("remote", "add", name, "/srv/dept.fieldlog", code=1)
    assert "looks like a path, not a name" in r.stderr
    assert "fieldlog remote add dept" in r.stderr


def test_remote_add_refuses_another_url_and_hides_a_password(cli):
    assert "neither a file path" in cli("remote", "add", "x", "https://a.example", code=1).stderr
    r = cli("remote", "add", "pg", "postgresql://fl:secret@db.example/fieldlog")
    assert "secret" not in r.stdout and "fl:***@db.example" in r.stdout
