"""save_pretrained / from_pretrained / load_pretrained: exact round trips and clear failures."""
import json
import os
import pickle

import numpy as np
import pytest
import torch

from deepchem_finetune import PretrainedError, MolGNNModel, MolGraphFeaturizer, SpecMismatchError
from deepchem_finetune.data import graphs_to_batch

from conftest import SMALL_SMILES, make_dataset


def pretrained_model(n_tasks=12, **kw):
    args = dict(featurizer=MolGraphFeaturizer("hu2020"), num_layers=2, hidden_dim=16, seed=0, dropout=0.0)
    args.update(kw)
    m = MolGNNModel(n_tasks, **args)
    m.fit(make_dataset(m.get_featurizer(), n_tasks=n_tasks), nb_epoch=2, checkpoint_interval=0)
    return m


def backbone_out(model, smiles=SMALL_SMILES):
    model.model.eval()
    with torch.no_grad():
        return model.backbone(graphs_to_batch(model.get_featurizer().featurize(smiles)))


@pytest.fixture
def ckpt(tmp_path):
    m = pretrained_model()
    path = m.save_pretrained(tmp_path / "ckpt", provenance={"data": {"name": "synthetic", "size": 10}})
    return m, path


def test_round_trip_reproduces_backbone_and_new_head_shape(ckpt):
    source, path = ckpt
    ft = MolGNNModel.from_pretrained(path, n_tasks=1, mode="regression")
    assert torch.equal(backbone_out(source), backbone_out(ft))
    assert ft.head.out_dim == 1 and ft.predict(make_dataset(ft.get_featurizer())).shape == (10, 1)
    assert source.head.out_dim == 24  # 12 tasks x 2 classes
    assert ft.get_featurizer().get_spec() == source.get_featurizer().get_spec()
    cfg = json.load(open(os.path.join(path, "config.json")))
    assert cfg["backbone"]["name"] == "MolGNN" and cfg["objective"]["config"]["n_tasks"] == 12
    assert cfg["provenance"]["data"]["name"] == "synthetic" and cfg["provenance"]["steps"] == 2
    assert not any(k.startswith("head") for k in ft.backbone.state_dict())


def test_saved_fine_tuned_model_records_its_parent(ckpt, tmp_path):
    _, path = ckpt
    ft = MolGNNModel.from_pretrained(path, n_tasks=1, mode="regression")
    child = ft.save_pretrained(tmp_path / "child")
    cfg = json.load(open(os.path.join(child, "config.json")))
    assert cfg["provenance"]["parent"]["data"]["name"] == "synthetic"


def test_dropout_may_change_but_architecture_may_not(ckpt):
    _, path = ckpt
    assert MolGNNModel.from_pretrained(path, n_tasks=1, dropout=0.5).backbone.dropout == 0.5
    with pytest.raises(ValueError, match="hidden_dim"):
        MolGNNModel.from_pretrained(path, n_tasks=1, hidden_dim=32)


def test_load_pretrained_from_model_instance_and_deepchem_api(ckpt):
    source, _ = ckpt
    target = MolGNNModel(1, featurizer=MolGraphFeaturizer("hu2020"), num_layers=2, hidden_dim=16, seed=5)
    target.load_pretrained(source)
    assert torch.equal(backbone_out(source), backbone_out(target))
    other = MolGNNModel(1, featurizer=MolGraphFeaturizer("hu2020"), num_layers=2, hidden_dim=16, seed=6)
    other.load_from_pretrained(source, include_top=False)  # DeepChem's signature, paired by name
    assert torch.equal(backbone_out(source), backbone_out(other))


def test_no_optimizer_state_is_carried_over(ckpt):
    source, path = ckpt
    assert len(source._pytorch_optimizer.state) > 0
    ft = MolGNNModel.from_pretrained(path, n_tasks=1)
    ft._ensure_built()
    assert len(ft._pytorch_optimizer.state) == 0


def test_mismatched_architecture_and_featurizer(ckpt):
    source, path = ckpt
    wider = MolGNNModel(1, featurizer=MolGraphFeaturizer("hu2020"), num_layers=2, hidden_dim=32)
    with pytest.raises(SpecMismatchError, match=r"(?s)hidden_dim.*model: .*source: "):
        wider.load_pretrained(path)
    rich = MolGNNModel(1, featurizer=MolGraphFeaturizer("rich"), num_layers=2, hidden_dim=16)
    with pytest.raises(SpecMismatchError, match="input_encoding"):
        rich.load_pretrained(path)


def test_mismatched_keys_are_all_listed(ckpt, tmp_path):
    source, path = ckpt
    from deepchem_finetune.hub import read_pretrained_dir, write_pretrained
    c = read_pretrained_dir(path)
    state = dict(c.state_dict)
    state.pop("layers.0.mlp.0.weight")
    state["extra.weight"] = torch.zeros(1)
    state["layers.1.mlp.2.bias"] = torch.zeros(3)
    bad = write_pretrained(tmp_path / "bad", state, c.backbone, c.featurizer, c.objective, c.provenance)
    target = MolGNNModel(1, featurizer=MolGraphFeaturizer("hu2020"), num_layers=2, hidden_dim=16)
    with pytest.raises(PretrainedError) as err:
        target.load_pretrained(bad)
    msg = str(err.value)
    assert "layers.0.mlp.0.weight" in msg and "extra.weight" in msg and "layers.1.mlp.2.bias" in msg


def test_corrupted_truncated_newer_and_foreign_files(ckpt, tmp_path):
    _, path = ckpt
    weights = os.path.join(path, "weights.safetensors")
    raw = open(weights, "rb").read()
    flipped = bytearray(raw)
    flipped[len(raw) // 2] ^= 0xFF
    open(weights, "wb").write(bytes(flipped))
    with pytest.raises(PretrainedError, match="checksum"):
        MolGNNModel.from_pretrained(path, n_tasks=1)
    open(weights, "wb").write(raw[: len(raw) // 3])
    with pytest.raises(PretrainedError):
        MolGNNModel.from_pretrained(path, n_tasks=1)
    open(weights, "wb").write(raw)
    cfg_path = os.path.join(path, "config.json")
    cfg = json.load(open(cfg_path))
    cfg["format_version"] = 99
    json.dump(cfg, open(cfg_path, "w"))
    with pytest.raises(PretrainedError, match="newer"):
        MolGNNModel.from_pretrained(path, n_tasks=1)
    with pytest.raises(PretrainedError, match="neither an existing pretrained path nor a zoo name"):
        MolGNNModel.from_pretrained("no-such-model", n_tasks=1)


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


def test_malicious_pickle_is_refused_without_running_code(tmp_path):
    marker = str(tmp_path / "pwned")
    evil = tmp_path / "evil.pth"
    torch.save({"x_embedding1.weight": torch.zeros(1), "payload": _Evil(marker)}, evil)
    with pytest.raises(PretrainedError):
        MolGNNModel.from_pretrained(str(evil), n_tasks=1)
    plain = tmp_path / "evil.pkl"
    plain.write_bytes(pickle.dumps(_Evil(marker)))
    with pytest.raises(PretrainedError):
        MolGNNModel.from_pretrained(str(plain), n_tasks=1)
    assert not os.path.exists(marker)


def test_wrong_argument_types_name_the_argument(tmp_path):
    # before: from_pretrained(..., n_tasks="two") failed deep inside with "'<' not supported between 'str' and 'int'"
    with pytest.raises(TypeError, match=r"n_tasks must be an int >= 1, got 'two' \(str\)"):
        MolGNNModel.from_pretrained("gin_zinc60k_desc30", n_tasks="two")
    with pytest.raises(TypeError, match="n_tasks"):
        MolGNNModel.from_pretrained("gin_zinc60k_desc30", n_tasks=1.5)
    with pytest.raises(ValueError, match="mode must be one of"):
        MolGNNModel.from_pretrained("gin_zinc60k_desc30", n_tasks=1, mode="regresion")
    with pytest.raises(TypeError, match="batch_size"):
        MolGNNModel(n_tasks=1, batch_size="32")
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        MolGNNModel(n_tasks=1, learning_rate=0)
    with pytest.raises(TypeError, match="seed"):
        MolGNNModel(n_tasks=1, seed="0")
    with pytest.raises(TypeError, match="head_hidden"):
        MolGNNModel(n_tasks=1, head_hidden=64)
    with pytest.raises(ValueError, match="head_dropout"):
        MolGNNModel(n_tasks=1, head_dropout=1.5)
    with pytest.raises(TypeError, match="n_tasks"):
        MolGNNModel(n_tasks=True)
