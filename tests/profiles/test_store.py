"""Where profiles live and which one is the default, on disk under a temporary config dir."""

import tomllib

import pytest

from freeclaude.profiles.schema import ProfileError
from freeclaude.profiles.store import Store, load_toml, template

DATA = {"providers": {"a": {"kind": "openai", "base_url": "http://127.0.0.1:8080/v1"}}, "tiers": {"opus": ["a:m"]}}


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(root=tmp_path)


def test_the_first_profile_saved_is_the_default_and_stays_so(store, tmp_path):
    store.save("one", DATA)
    store.save("two", DATA)
    assert store.names() == ["one", "two"] and store.default() == "one"
    assert tomllib.loads((tmp_path / "config.toml").read_text()) == {"default_profile": "one"}
    assert store.resolve(None).name == "one" and store.resolve("two").name == "two"
    assert tomllib.loads((tmp_path / "profiles" / "two.toml").read_text()) == DATA


def test_removing_the_default_hands_it_on_and_the_last_leaves_none(store):
    for name in ("c", "a", "b"):
        store.save(name, DATA)
    store.set_default("b")
    store.remove("a")  # not the default: the default stays
    assert store.default() == "b"
    store.remove("b")
    assert store.default() == "c"
    store.remove("c")
    assert store.names() == [] and store.default() is None
    with pytest.raises(ProfileError, match="no profile yet"):
        store.resolve(None)


@pytest.mark.parametrize("config", ['default_profile = "gone"', "default_profile = 3", "other = 1"])
def test_a_default_that_names_no_profile_is_no_default(store, tmp_path, config):
    store.save("here", DATA)
    (tmp_path / "config.toml").write_text(config + "\n")
    assert store.default() is None
    with pytest.raises(ProfileError, match="no profile yet"):
        store.resolve(None)


def test_what_is_not_there_is_named(store):
    store.save("here", DATA)
    with pytest.raises(ProfileError, match=r"^no profile named 'gone' \(profiles: here\); add one with"):
        store.load("gone")
    for call in (store.set_default, store.remove):
        with pytest.raises(ProfileError, match="^no profile named 'gone'$"):
            call("gone")
    with pytest.raises(ProfileError, match=r"^unknown template 'nope' \(templates: anthropic, "):
        template("nope")


@pytest.mark.parametrize("name", ["", ".hidden", "a/b", "a b", "x" * 65])
def test_a_name_that_cannot_be_a_file_is_refused_before_any_file_is_touched(store, tmp_path, name):
    with pytest.raises(ProfileError, match="is not a valid profile name"):
        store.save(name, DATA)
    assert list(tmp_path.iterdir()) == []
    assert store.path("x" * 64).name == "x" * 64 + ".toml"


def test_a_file_that_cannot_be_read_says_why(tmp_path):
    (tmp_path / "dir.toml").mkdir()
    with pytest.raises(ProfileError, match=r"dir.toml: cannot read: Is a directory$"):
        load_toml(tmp_path / "dir.toml")
