"""Fuzzing every reader: configuration (TOML and --set), IR, chip files. Every failure is a ReramError."""

from __future__ import annotations

import contextlib
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reram.chip.device import noise_free
from reram.chip.program import load_chip, program_chip, save_chip
from reram.config import load_config
from reram.config.loader import config_schema_keys
from reram.errors import ConfigError, IRError, ReramError
from reram.ir import CompiledModel

KEYS = config_schema_keys()
toml_scalars = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True), st.booleans(),
                         st.text(max_size=8), st.lists(st.integers(-5, 5000), max_size=4))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([*KEYS, "bogus.key", "data.nope", "train"]),
       st.one_of(st.text(max_size=20), toml_scalars.map(str)))
def test_set_fuzz_only_config_errors(key, raw):
    try:
        load_config(None, [f"{key}={raw}"])
    except ConfigError as e:
        assert str(e) and "\n" not in str(e).strip()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_toml_bytes_fuzz(tmp_path, blob):
    p = tmp_path / "c.toml"
    p.write_bytes(blob)
    with contextlib.suppress(ConfigError):
        load_config(p)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(["data", "model", "train", "adc", "rtl", "energy", "zz"]),
                       st.dictionaries(st.sampled_from([k.split(".")[1] for k in KEYS] + ["x"]), toml_scalars,
                                       max_size=3), max_size=3))
def test_toml_documents_fuzz(tmp_path, doc):
    import tomli_w

    p = tmp_path / "c.toml"
    try:
        p.write_text(tomli_w.dumps(doc))
    except (TypeError, ValueError):
        return
    with contextlib.suppress(ConfigError):
        load_config(p)


@pytest.fixture(scope="module")
def saved_ir(tmp_path_factory, compiled_default):
    d = tmp_path_factory.mktemp("ir")
    compiled_default[2].save(d)
    return d


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_ir_json_mutations(tmp_path, saved_ir, data):
    doc = json.loads((saved_ir / "ir.json").read_text())
    layer = data.draw(st.integers(0, len(doc["layers"]) - 1))
    key = data.draw(st.sampled_from([*sorted(doc["layers"][layer]), "__top__"]))
    value = data.draw(st.one_of(st.none(), st.integers(-2**70, 2**70), st.text(max_size=5), st.floats(),
                                st.lists(st.integers(), max_size=2)))
    if key == "__top__":
        doc[data.draw(st.sampled_from(["arch", "layers", "passes", "version", "flow"]))] = value
    else:
        doc["layers"][layer][key] = value
    (tmp_path / "ir.json").write_text(json.dumps(doc))
    (tmp_path / "ir.npz").write_bytes((saved_ir / "ir.npz").read_bytes())
    with contextlib.suppress(IRError):
        CompiledModel.load(tmp_path)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 10**7), st.binary(min_size=1, max_size=64))
def test_ir_npz_corruption(tmp_path, saved_ir, pos, blob):
    raw = bytearray((saved_ir / "ir.npz").read_bytes())
    i = pos % len(raw)
    raw[i : i + len(blob)] = blob
    (tmp_path / "ir.npz").write_bytes(bytes(raw))
    (tmp_path / "ir.json").write_bytes((saved_ir / "ir.json").read_bytes())
    with contextlib.suppress(IRError):
        CompiledModel.load(tmp_path)


def test_ir_missing_array_and_wrong_shape(tmp_path, saved_ir):
    with np.load(saved_ir / "ir.npz") as z:
        arrays = {k: z[k] for k in z.files}
    (tmp_path / "ir.json").write_bytes((saved_ir / "ir.json").read_bytes())
    a = dict(arrays)
    a.pop("l1.bias")
    np.savez(tmp_path / "ir.npz", **a)
    with pytest.raises(IRError, match=r"l1\.bias"):
        CompiledModel.load(tmp_path)
    a = dict(arrays)
    a["l0.weight"] = a["l0.weight"][:, :5]
    np.savez(tmp_path / "ir.npz", **a)
    with pytest.raises(IRError, match="shape"):
        CompiledModel.load(tmp_path)
    a = dict(arrays)
    a["l0.bias"] = np.full_like(a["l0.bias"], np.nan)
    np.savez(tmp_path / "ir.npz", **a)
    with pytest.raises(IRError, match="NaN"):
        CompiledModel.load(tmp_path)


def test_chip_loader_validates(tmp_path, compiled_default):
    _, dev, cm = compiled_default
    chip = program_chip(cm, noise_free(dev), seed=1)
    save_chip(tmp_path / "chip.npz", chip)
    back = load_chip(tmp_path / "chip.npz", cm)
    assert np.array_equal(back.layers[0].g_pos, chip.layers[0].g_pos)
    with np.load(tmp_path / "chip.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays["l0.g_pos"] = arrays["l0.g_pos"] + 10**6
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(IRError, match="integer codes"):
        load_chip(tmp_path / "bad.npz", cm)
    raw = (tmp_path / "chip.npz").read_bytes()
    (tmp_path / "trunc.npz").write_bytes(raw[: len(raw) // 3])
    with pytest.raises(ReramError):
        load_chip(tmp_path / "trunc.npz", cm)
