"""Policy files: validation, refusal of unknown keys, the SHA-256, and their docs."""

from __future__ import annotations

import hashlib
import re
import types
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from governance.errors import PolicyError
from governance.policy_files import default_policy_dir
from governance.sdc.policy import (
    PolicyFile,
    list_policies,
    load_policy,
    method_name,
    parse_policy,
    policy_from_mapping,
)

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "policy-reference.md"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = "id: {id}\nversion: 1\n"


def test_the_default_policy_loads_by_id_with_its_file_digest() -> None:
    policy = load_policy("wres-wales")
    path = default_policy_dir() / "wres-wales.yaml"
    assert policy.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert policy.id == "wres-wales"
    assert policy.version >= 1
    rules = policy.disclosure
    assert rules.primary.threshold.min_count == 10
    assert rules.labels.primary == "<10"
    assert rules.labels.secondary == "[c]"
    assert rules.primary.zeros == "publish"
    assert rules.derived.inherit_suppression is True
    assert "wres-wales" in list_policies()


def test_a_policy_loads_by_path_and_any_byte_changes_the_digest(tmp_path: Path) -> None:
    a = load_policy(write(tmp_path, "p.yaml", MINIMAL.format(id="p")))
    b = load_policy(write(tmp_path, "p.yml", MINIMAL.format(id="p") + "# a comment\n"))
    assert a.document == b.document
    assert a.sha256 != b.sha256
    assert a.source.endswith("p.yaml")


def test_unknown_key_is_refused_with_file_and_key(tmp_path: Path) -> None:
    text = (
        MINIMAL.format(id="p")
        + "disclosure:\n  primary:\n    treshold: {min_count: 5}\n"
    )
    path = write(tmp_path, "p.yaml", text)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert message == f"{path}: unknown key 'disclosure.primary.treshold'"
    assert "\n" not in message


def test_unknown_top_level_section_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", MINIMAL.format(id="p") + "access: {}\n")
    with pytest.raises(PolicyError, match="unknown key 'access'"):
        load_policy(path)


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("disclosure: {primary: {threshold: {min_count: '10'}}}", "min_count"),
        ("disclosure: {primary: {zeros: hide}}", "disclosure.primary.zeros"),
        ("disclosure: {secondary: {method: exact}}", "disclosure.secondary.method"),
        ("disclosure: {primary: {threshold: {min_count: 5}}}", "labels.primary states"),
        ("disclosure: {labels: {secondary: '<10'}}", "must not say a cell is small"),
        ("disclosure: {labels: {not_computable: '[c]'}}", "must differ"),
        ("disclosure: {secondary: {protection_level: {count: 9}}}", "exceeds"),
        ("disclosure: {secondary: {protection_level: {count: 0}}}", "count"),
        (
            "disclosure: {derived: {relative_likelihood: {confidence: 1.5}}}",
            "confidence",
        ),
    ],
)
def test_invalid_values_are_refused_naming_the_key(
    tmp_path: Path, extra: str, problem: str
) -> None:
    path = write(tmp_path, "p.yaml", MINIMAL.format(id="p") + extra + "\n")
    with pytest.raises(PolicyError, match=problem) as caught:
        load_policy(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_a_matching_small_label_and_threshold_are_accepted() -> None:
    policy = policy_from_mapping(
        {
            "id": "five",
            "version": 1,
            "disclosure": {
                "primary": {"threshold": {"min_count": 5}},
                "labels": {"primary": "<5"},
                "secondary": {"protection_level": {"count": 2}},
            },
        }
    )
    assert policy.disclosure.labels.primary == "<5"
    assert len(policy.sha256) == 64


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        (
            "p.yaml",
            "id: p\nversion: 1\nversion: 2\n",
            "line 3: key 'version' is given twice",
        ),
        ("p.yaml", "id: p\nversion: [\n", r"not valid YAML \(line"),
        ("p.yaml", "- id\n", "must be a mapping"),
        ("p.yaml", "id: q\nversion: 1\n", "key 'id' must equal the file name"),
        ("p.yaml", "version: 1\n", "missing key 'id'"),
        ("p.toml", "id = [", "not valid TOML"),
    ],
)
def test_malformed_files_are_refused(
    tmp_path: Path, name: str, text: str, problem: str
) -> None:
    with pytest.raises(PolicyError, match=problem):
        load_policy(write(tmp_path, name, text))


def test_toml_policies_are_read_too(tmp_path: Path) -> None:
    text = 'id = "t"\nversion = 2\n[disclosure.primary]\nzeros = "small"\n'
    policy = load_policy(write(tmp_path, "t.toml", text))
    assert policy.disclosure.primary.zeros == "small"


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_policy(path)


def test_policy_lookup_by_id_in_a_directory(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", MINIMAL.format(id="a"))
    write(tmp_path, "b.yaml", MINIMAL.format(id="b"))
    write(tmp_path, "b.toml", 'id = "b"\nversion = 1\n')
    assert load_policy("a", policy_dir=tmp_path).id == "a"
    with pytest.raises(PolicyError, match="ambiguous"):
        load_policy("b", policy_dir=tmp_path)
    with pytest.raises(PolicyError, match="'c' not found"):
        load_policy("c", policy_dir=tmp_path)
    with pytest.raises(PolicyError, match="policy file not found"):
        load_policy(tmp_path / "missing.yaml")
    assert list_policies(tmp_path) == ["a", "b", "b"]


def test_parse_policy_digest_is_of_the_bytes() -> None:
    content = MINIMAL.format(id="x").encode()
    policy = parse_policy(content, source="x.yaml", expected_id="x")
    assert policy.sha256 == hashlib.sha256(content).hexdigest()


def test_method_names() -> None:
    assert method_name(None) is None
    assert method_name("fast") == "fast"
    with pytest.raises(PolicyError, match="unknown suppression method"):
        method_name("exact")


# --- docs/policy-reference.md cannot drift -----------------------------------------


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if (
        isinstance(annotation, types.UnionType)
        or typing.get_origin(annotation) is typing.Union
    ):
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
    return None


def policy_keys(model: type[BaseModel] = PolicyFile, prefix: str = "") -> list[str]:
    keys = []
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        keys.append(key)
        nested = _model_of(info.annotation)
        if nested is not None:
            keys.extend(policy_keys(nested, f"{key}."))
    return keys


def test_every_policy_key_has_a_section_in_the_reference() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    headings = set(re.findall(r"^#{2,4} `([a-z_.]+)`", text, flags=re.MULTILINE))
    keys = policy_keys()
    assert "disclosure.primary.threshold.min_count" in keys
    missing = [k for k in keys if k not in headings]
    assert not missing, f"undocumented policy keys: {missing}"
    stale = sorted(headings - set(keys))
    assert not stale, f"documented keys that do not exist: {stale}"


def test_every_yaml_example_in_the_reference_is_a_valid_policy() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)
    assert len(blocks) >= 10
    for block in blocks:
        data = yaml.safe_load(block)
        data.setdefault("id", "example")
        data.setdefault("version", 1)
        policy_from_mapping(data, source="policy-reference.md")


def test_reference_states_the_defaults_of_the_model() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    defaults = PolicyFile(id="x", version=1).disclosure
    for key, value in [
        (
            "disclosure.primary.threshold.min_count",
            defaults.primary.threshold.min_count,
        ),
        ("disclosure.primary.zeros", defaults.primary.zeros),
        ("disclosure.secondary.method", defaults.secondary.method),
        (
            "disclosure.secondary.protection_level.count",
            defaults.secondary.protection_level.count,
        ),
        ("disclosure.secondary.time_limit", defaults.secondary.time_limit),
        ("disclosure.labels.secondary", defaults.labels.secondary),
    ]:
        section = text.split(f"`{key}`", 1)[1].split("\n#", 1)[0]
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        assert f"Default: `{shown}`" in section, key
