"""benchmarks/recipe_and_ensemble.py (#24): each ablation arm removes exactly one component of the recipe, and the
--quick --ablation run writes rows a second run skips."""
import sys

import pandas as pd
import pytest

from conftest import MOLECULENET_DIR, REPO, require_shared

sys.path.insert(0, str(REPO / "benchmarks"))
import recipe_and_ensemble as bench  # noqa: E402

from deepchem_finetune.recipe import get_recipe, preset  # noqa: E402


@pytest.mark.parametrize("ablation", sorted(bench.ABLATIONS))
def test_each_ablation_changes_one_component_only(ablation):
    whole = preset("stable", pretrained=True)
    whole_recipe = get_recipe("stable").config
    opts = bench.arm_options(f"stable-{ablation}", pretrained=True)
    changed = {k for k, v in opts["recipe"].config.items() if v != whole_recipe[k]}
    same_lr = (opts["learning_rate"], opts["head_lr_mult"]) == (whole["learning_rate"], whole["head_lr_mult"])
    expected = {"no-schedule": {"warmup", "decay", "min_lr_ratio"}, "no-clip": {"clip_norm"}, "no-ema": {"ema_decay"},
                "same-lr": set()}[ablation]
    assert changed == expected
    assert same_lr == (ablation != "same-lr")
    if ablation == "same-lr":  # the backbone at the head's learning rate
        assert opts["head_lr_mult"] == 1.0
        assert opts["learning_rate"] == pytest.approx(whole["learning_rate"] * whole["head_lr_mult"])


def test_unknown_ablation_is_named():
    with pytest.raises(ValueError, match="unknown ablation 'no-such'"):
        bench.arm_options("stable-no-such", pretrained=True)


def test_quick_ablation_rows_are_written_once(tmp_path, one_thread):
    require_shared(MOLECULENET_DIR / "delaney-processed.csv")
    out = tmp_path / "ablation.csv"
    args = ["--quick", "--ablation", "no-ema", "no-clip", "--data-dir", str(MOLECULENET_DIR), "--out", str(out),
            "--reference", str(tmp_path / "absent.csv"), "--no-progress"]
    assert bench.main(args) == 0
    rows = pd.read_csv(out)
    assert sorted(rows["model"].unique()) == ["recipe:stable-no-clip", "recipe:stable-no-ema"]
    assert len(rows) == 4 and rows["test"].notna().all()  # 2 datasets x 2 arms, seed 0, no ensemble rows
    assert '"ema_decay": null' in rows.loc[rows["model"] == "recipe:stable-no-ema", "lr_schedule"].iloc[0]
    assert bench.main(args) == 0
    assert len(pd.read_csv(out)) == 4  # the rerun skips the cells it has


def test_ablation_refuses_what_it_cannot_ablate(capsys):
    with pytest.raises(SystemExit):
        bench.main(["--ablation", "--recipe", "constant"])
    assert "'constant' has none" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main(["--ablation", "same-lr", "--pretrained", "none"])
    assert "needs a pretrained backbone" in capsys.readouterr().err


def test_reference_rows_of_another_protocol_are_refused(tmp_path, one_thread):
    require_shared(MOLECULENET_DIR / "delaney-processed.csv")
    out, ref = tmp_path / "ablation.csv", tmp_path / "reference.csv"
    args = ["--quick", "--ablation", "no-ema", "--data-dir", str(MOLECULENET_DIR), "--out", str(out), "--no-progress"]
    assert bench.main(args + ["--reference", str(tmp_path / "absent.csv")]) == 0
    rows = pd.read_csv(out)
    whole = rows.assign(model="recipe:stable")
    whole.to_csv(ref, index=False)
    assert bench.main(args + ["--reference", str(ref)]) == 0  # same protocol: paired in the summary
    whole.assign(patience=20).to_csv(ref, index=False)
    with pytest.raises(ValueError, match="patience"):
        bench.main(args + ["--reference", str(ref)])
