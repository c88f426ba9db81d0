"""The model zoo shipped inside the package: listed, loadable offline by name, reproducible from its command."""
import json

import numpy as np

from deepchem_finetune import MolGNNModel, SeqCNNModel
from deepchem_finetune.cli import build_parser, main
from deepchem_finetune.demo import DEMO_CHECKPOINT
from deepchem_finetune.hub import ZOO_DIR, read_pretrained, zoo_names, zoo_table
from deepchem_finetune.hub.zoo import imported_ancestor


def test_zoo_lists_the_demo_checkpoint_with_its_provenance(capsys):
    assert DEMO_CHECKPOINT in zoo_names()
    row = next(r for r in zoo_table() if r["name"] == DEMO_CHECKPOINT)
    assert row["size_mb"] < 20 and row["steps"] > 0
    assert row["command"].startswith("deepchem-finetune pretrain ") and "--corpus" in row["command"]
    assert len(row["data"]["sha256"]) == 64 and row["data"]["size"] > 0
    assert main(["zoo"]) == 0
    assert DEMO_CHECKPOINT in capsys.readouterr().out
    assert build_parser().parse_args(["demo"]).pretrained == DEMO_CHECKPOINT  # `make demo` runs the same one


def test_every_zoo_entry_loads_by_name_and_predicts():
    rows = {r["name"]: r for r in zoo_table()}
    for name in zoo_names():
        ckpt = read_pretrained(name)  # verifies the checksum
        cfg = json.loads((ZOO_DIR / name / "config.json").read_text())
        prov = cfg["provenance"]
        assert len(cfg["weights_sha256"]) == 64 and prov["datasets"]
        if prov.get("imported"):  # foreign weights: source file, its checksum, license, citation, conversion command
            assert len(prov["source_sha256"]) == 64 and prov["source_repo"] and prov["license"].startswith("MIT")
            assert (ZOO_DIR.parents[1] / prov["license_file"]).read_text().startswith("MIT License") and prov["citation"]
            assert prov["command"].startswith("python benchmarks/convert_hu2020_weights.py")
        else:  # pretrained here: steps, the exact command and a budget the zoo listing shows
            assert prov["steps"] > 0 and prov["command"].startswith("deepchem-finetune pretrain ")
            budget = rows[name]["budget"]
            assert budget["steps"] >= prov["steps"] and budget["molecules_seen"] > 0 and budget["minutes"] > 0
            start = imported_ancestor(prov)
            if start is not None:  # continued from imported weights: their license travels with it
                assert (ZOO_DIR.parents[1] / start["license_file"]).read_text().startswith("MIT License")
                assert start["license"] in rows[name]["origin"] and start["source_sha256"][:12] in rows[name]["origin"]
        for part in cfg["objective"]["config"].get("parts", [cfg["objective"]]):
            if part["name"] == "descriptors":  # the corpus-fitted scaler travels with the weights
                scaler = part["config"]["scaler"]
                assert len(scaler["center"]) == len(scaler["kept"]) == len(scaler["names"]) - len(scaler["dropped"]) > 100
        if ckpt.backbone["name"] == "MolGNN":
            model = MolGNNModel.from_pretrained(name, n_tasks=2, mode="regression", seed=0)
            pred = model.predict_smiles(["CCO", "c1ccccc1O"])
        else:
            model = SeqCNNModel.from_pretrained(name, n_tasks=2, mode="regression", seed=0)
            inputs = {"ProteinTokenizer": ["MKTAYIAKQR", "GSHMLE"], "NucleotideTokenizer": ["ACGTTGACAT", "TATAAT"]}
            pred = model.predict_sequences(inputs.get(ckpt.featurizer["name"], ["CCO", "c1ccccc1O"]))
        assert pred.shape == (2, 2) and np.isfinite(pred).all()
