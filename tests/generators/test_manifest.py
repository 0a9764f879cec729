from __future__ import annotations

import json

import pytest

from generators import CatalogueInvalid, ManifestInvalid, load_catalogue, load_manifest


def test_missing_manifest(tmp_path) -> None:
    with pytest.raises(ManifestInvalid) as caught:
        load_manifest(tmp_path)
    assert str(caught.value) == f"{tmp_path / 'manifest.json'}: cannot read (No such file or directory)"


def test_manifest_not_json(tmp_path) -> None:
    (tmp_path / "manifest.json").write_text("{nope")
    with pytest.raises(ManifestInvalid, match=r"manifest.json: not valid JSON \(Expecting property name"):
        load_manifest(tmp_path)


def test_manifest_bad_field_names_the_key(tmp_path) -> None:
    bad = {"seed": 1, "min_size_bytes": 1, "app_limit_bytes": 1, "gateway_limit_bytes": 1,
           "files": [{"name": "x.pdf", "kind": "huge"}]}
    (tmp_path / "manifest.json").write_text(json.dumps(bad))
    with pytest.raises(ManifestInvalid) as caught:
        load_manifest(tmp_path / "manifest.json")
    assert str(caught.value).startswith(
        f"{tmp_path / 'manifest.json'}: files.0.kind: Input should be 'normal', 'heavy' or 'hostile' (got 'huge')"
    )


def test_catalogue_errors(tmp_path) -> None:
    with pytest.raises(CatalogueInvalid) as caught:
        load_catalogue(tmp_path / "tokens.json")
    assert str(caught.value) == f"{tmp_path / 'tokens.json'}: cannot read (No such file or directory)"
    (tmp_path / "tokens.json").write_text(json.dumps({"profile": "x"}))
    with pytest.raises(CatalogueInvalid, match=r"tokens.json: claim_style: Field required; and 5 more problems$"):
        load_catalogue(tmp_path / "tokens.json")
