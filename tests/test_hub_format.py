"""Tests for the pretrained-backbone folder format (deepchem_finetune.hub.format)."""
import builtins
import json
import os
import pickle

import pytest
import torch

from deepchem_finetune.hub import (FORMAT_NAME, FORMAT_VERSION, collect_provenance, file_sha256,
                                          read_pretrained_dir, load_state_dict_strict, safe_torch_load,
                                          write_pretrained)
from deepchem_finetune.exceptions import PretrainedError

SPECS = dict(backbone={"name": "tiny", "config": {"in_dim": 4, "hidden": 3}},
             featurizer={"name": "graph", "config": {"vocab": ["C", "N", "O"], "max_len": None}},
             objective={"name": "masking", "config": {"mask_rate": 0.15}})


def tiny_backbone(hidden=3):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, hidden), torch.nn.BatchNorm1d(hidden))
    net(torch.randn(5, 4))  # training-mode pass: updates running stats and num_batches_tracked
    return net


def save(path, net=None, **overrides):
    kwargs = dict(SPECS, provenance=collect_provenance(seed=0, steps=10, final_loss=0.5),
                  extra={"scaler": {"mean": [0.0, 1.5], "std": [1.0, 2.0]}})
    kwargs.update(overrides)
    return write_pretrained(path, (net or tiny_backbone()).state_dict(), **kwargs)


def edit_config(path, **changes):
    config_path = os.path.join(path, "config.json")
    with open(config_path) as fh:
        config = json.load(fh)
    config.update(changes)
    with open(config_path, "w") as fh:
        json.dump(config, fh)


class Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return builtins.exec, (f"open(r'{self.marker}', 'w').write('x')",)


def test_round_trip(tmp_path):
    net = tiny_backbone()
    path = save(tmp_path / "ckpt", net)
    assert path == str(tmp_path / "ckpt")
    assert sorted(os.listdir(path)) == ["config.json", "weights.safetensors"]
    ckpt = read_pretrained_dir(path)
    original = net.state_dict()
    assert original["1.num_batches_tracked"].dtype == torch.int64
    assert set(ckpt.state_dict) == set(original)
    for key, value in original.items():
        assert ckpt.state_dict[key].dtype == value.dtype
        assert torch.equal(ckpt.state_dict[key], value), key
    assert ckpt.config["format"] == FORMAT_NAME and ckpt.config["format_version"] == FORMAT_VERSION
    assert ckpt.backbone == SPECS["backbone"] and ckpt.featurizer == SPECS["featurizer"]
    assert ckpt.objective == SPECS["objective"]
    assert ckpt.extra == {"scaler": {"mean": [0.0, 1.5], "std": [1.0, 2.0]}}
    assert ckpt.provenance["torch"] == torch.__version__
    assert ckpt.provenance["created_utc"] and ckpt.provenance["seed"] == 0
    assert ckpt.config["weights_sha256"] == file_sha256(os.path.join(path, "weights.safetensors"))
    fresh = tiny_backbone(hidden=3)
    fresh.apply(lambda m: torch.nn.init.zeros_(m.weight) if isinstance(m, torch.nn.Linear) else None)
    load_state_dict_strict(fresh, ckpt.state_dict)
    assert torch.equal(fresh[0].weight, net[0].weight)


def test_provenance_fields():
    prov = collect_provenance(data_name="zinc", command="pretrain")
    for key in ("deepchem_finetune", "deepchem", "torch", "torch_geometric", "rdkit", "numpy", "python"):
        assert key in prov
    assert prov["data_name"] == "zinc" and "T" in prov["created_utc"]
    json.dumps(prov)


def test_atomic_overwrite(tmp_path):
    path = tmp_path / "ckpt"
    save(path, tiny_backbone(hidden=3))
    save(path, tiny_backbone(hidden=5), extra={"second": True})
    ckpt = read_pretrained_dir(path)
    assert ckpt.extra == {"second": True} and ckpt.state_dict["0.weight"].shape == (5, 4)
    assert os.listdir(tmp_path) == ["ckpt"]  # no .tmp- leftovers


def test_refuses_to_overwrite_foreign_folder(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "keep.csv").write_text("x")
    with pytest.raises(FileExistsError):
        save(tmp_path / "data")
    assert (tmp_path / "data" / "keep.csv").exists() and os.listdir(tmp_path) == ["data"]


def test_flipped_byte_is_checksum_error(tmp_path):
    path = save(tmp_path / "ckpt")
    weights = os.path.join(path, "weights.safetensors")
    data = bytearray(open(weights, "rb").read())
    data[-1] ^= 0xFF
    open(weights, "wb").write(bytes(data))
    with pytest.raises(PretrainedError, match="checksum"):
        read_pretrained_dir(path)


def test_truncated_weights_with_matching_checksum(tmp_path):
    path = save(tmp_path / "ckpt")
    weights = os.path.join(path, "weights.safetensors")
    data = open(weights, "rb").read()
    open(weights, "wb").write(data[: len(data) // 2])
    edit_config(path, weights_sha256=file_sha256(weights))
    with pytest.raises(PretrainedError, match="could not parse"):
        read_pretrained_dir(path)


def test_newer_format_version(tmp_path):
    path = save(tmp_path / "ckpt")
    edit_config(path, format_version=FORMAT_VERSION + 1)
    with pytest.raises(PretrainedError, match="newer"):
        read_pretrained_dir(path)


def test_other_format_and_bad_json(tmp_path):
    path = save(tmp_path / "ckpt")
    edit_config(path, format="someone-else")
    with pytest.raises(PretrainedError, match="not made by deepchem-finetune"):
        read_pretrained_dir(path)
    with open(os.path.join(path, "config.json"), "w") as fh:
        fh.write("{not json")
    with pytest.raises(PretrainedError, match="not valid JSON"):
        read_pretrained_dir(path)


@pytest.mark.parametrize("missing", ["config.json", "weights.safetensors"])
def test_missing_files_and_paths(tmp_path, missing):
    path = save(tmp_path / "ckpt")
    os.remove(os.path.join(path, missing))
    with pytest.raises(PretrainedError, match=missing):
        read_pretrained_dir(path)
    with pytest.raises(PretrainedError, match="no pretrained folder"):
        read_pretrained_dir(tmp_path / "nowhere")


def test_strict_loading_lists_all_problems():
    net = tiny_backbone(hidden=3)
    state = dict(net.state_dict())
    del state["1.bias"]
    state["2.weight"] = torch.zeros(1)
    state["0.weight"] = torch.zeros(7, 4)
    with pytest.raises(PretrainedError) as info:
        load_state_dict_strict(net, state, source="my.ckpt")
    msg = str(info.value)
    assert "missing" in msg and "1.bias" in msg
    assert "unexpected" in msg and "2.weight" in msg
    assert "0.weight: model expects (3, 4), my.ckpt has (7, 4)" in msg


def test_strict_loading_truncates_long_lists():
    net = torch.nn.Sequential(*[torch.nn.Linear(1, 1) for _ in range(15)])  # 30 keys
    with pytest.raises(PretrainedError, match=r"\.\.\. and 10 more"):
        load_state_dict_strict(net, {})


@pytest.mark.parametrize("use_torch_save", [True, False])
def test_malicious_pickle_is_never_run(tmp_path, use_torch_save):
    marker = tmp_path / "pwned"
    evil_path = tmp_path / "evil.pth"
    if use_torch_save:
        torch.save({"w": Evil(str(marker))}, evil_path)
    else:
        evil_path.write_bytes(pickle.dumps({"w": Evil(str(marker))}, protocol=2))
    assert not marker.exists()
    with pytest.raises(PretrainedError, match="refusing to unpickle"):
        safe_torch_load(evil_path)
    assert not marker.exists()
    with pytest.raises(PretrainedError, match="not a deepchem-finetune pretrained folder") as info:
        read_pretrained_dir(evil_path)
    assert "never unpickled" in str(info.value)
    assert not marker.exists()


def test_safe_torch_load_plain_state_dict(tmp_path):
    net = tiny_backbone()
    torch.save(net.state_dict(), tmp_path / "plain.pth")
    state = safe_torch_load(tmp_path / "plain.pth")
    load_state_dict_strict(tiny_backbone(), state, source="plain.pth")


def test_non_json_value_names_key(tmp_path):
    featurizer = {"name": "graph", "config": {"vocab": ["C"], "bad": {1, 2}}}
    with pytest.raises(TypeError, match=r"featurizer\.config\.bad"):
        save(tmp_path / "ckpt", featurizer=featurizer)
    with pytest.raises(TypeError, match="final_loss"):
        save(tmp_path / "ckpt", provenance={"final_loss": float("nan")})
    assert os.listdir(tmp_path) == []
