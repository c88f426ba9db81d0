"""The ``finetune``, ``predict`` and ``example`` subcommands of ``deepchem-finetune`` (added by
:func:`add_commands`; the work is done by :mod:`deepchem_finetune.workflow`)."""
from __future__ import annotations

import sys

from deepchem_finetune.cli_values import key_values
from deepchem_finetune.recipe import PRESETS, RECIPES

__all__ = ["add_commands"]

_GNN = ("num_layers", "hidden_dim")
_SEQ = ("width", "depth")


def _recipe_help() -> str:
    parts = []
    for name, options in RECIPES.items():
        lr = PRESETS[name]
        shown = ", ".join(f"{k}={v}" for k, v in options.items()) or "constant learning rate, no clipping, no averaging"
        parts.append(f"{name}: {shown}; head lr {lr['lr']:g}, backbone lr x{lr['backbone_lr_ratio']:g} when "
                     "fine-tuning a pretrained backbone")
    return "; ".join(parts)


def _strategy_options(items):
    return dict(key_values(items, "--strategy-option", "head_lr_mult=5"))


def _cmd_finetune(args) -> int:
    from deepchem_finetune.workflow.finetune import finetune_csv
    from deepchem_finetune.workflow.folder import ModelFolderError
    from deepchem_finetune.workflow.table import InputError
    kind = "smiles" if args.smiles_column else args.alphabet
    ours, theirs = (_GNN, _SEQ) if kind == "smiles" else (_SEQ, _GNN)
    wrong = [f"--{k.replace('_', '-')}" for k in theirs if getattr(args, k) is not None]
    if wrong:
        raise SystemExit(f"finetune: {', '.join(wrong)} do(es) not apply to {kind} inputs")
    model_options = {k: getattr(args, k) for k in ours + ("dropout",) if getattr(args, k) is not None}
    if args.quick:
        args.ensemble, args.max_epochs, args.patience = min(args.ensemble, 2), min(args.max_epochs, 3), None
    try:
        finetune_csv(args.data, args.out, args.target_columns, smiles_column=args.smiles_column,
                     sequence_column=args.sequence_column, alphabet=args.alphabet, task_type=args.task_type,
                     pretrained=args.pretrained, strategy=args.strategy,
                     strategy_options=_strategy_options(args.strategy_option), recipe=args.recipe, lr=args.lr,
                     backbone_lr_ratio=args.backbone_lr_ratio,
                     split=args.split, split_sizes=args.split_sizes, seed=args.seed, ensemble=args.ensemble,
                     max_epochs=args.max_epochs, patience=args.patience, batch_size=args.batch_size,
                     metric=args.metric, model_options=model_options, max_length=args.max_length,
                     extra_features=args.extra_features or (), time_budget=args.time_budget, skip_invalid=args.skip_invalid, progress=not args.no_progress,
                     overwrite=args.overwrite, command=args.command_line)
    except (InputError, ModelFolderError, FileNotFoundError) as err:
        print(f"finetune: {err}", file=sys.stderr)
        return 2
    return 0


def _cmd_predict(args) -> int:
    from deepchem_finetune.workflow.folder import ModelFolderError
    from deepchem_finetune.workflow.predict import predict_csv
    from deepchem_finetune.workflow.table import InputError
    try:
        predict_csv(args.model_dir, args.data, args.out, column=args.smiles_column or args.sequence_column)
    except (InputError, ModelFolderError, FileNotFoundError) as err:
        print(f"predict: {err}", file=sys.stderr)
        return 2
    return 0


def _cmd_example(args) -> int:
    from deepchem_finetune import examples
    if args.name is None:
        for name in examples.names():
            file, what, options = examples.EXAMPLES[name]
            print(f"{name}: {file}: {what}\n    finetune options: {options}")
        return 0
    if args.out is None:
        print(examples.path(args.name))
        return 0
    print(f"wrote {examples.copy(args.name, args.out)}; fine-tune it with: deepchem-finetune finetune {args.out} "
          f"--out MODEL_DIR {examples.EXAMPLES[args.name][2]}")
    return 0


def add_table_arguments(parser) -> None:
    """The arguments that say how to read and split the user's CSV, shared by ``finetune`` and ``rank`` (which
    splits it as ``finetune`` does): the file, its input column, targets, task type and split.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_table_arguments(parser)
    >>> args = parser.parse_args(["data.csv", "--smiles-column", "smiles", "--target-columns", "y"])
    >>> args.split, args.split_sizes, args.task_type
    (None, [0.8, 0.1, 0.1], 'auto')
    """
    parser.add_argument("data", help="CSV (or .csv.gz) with an input column and measured values")
    inputs = parser.add_mutually_exclusive_group(required=True)
    inputs.add_argument("--smiles-column", help="column of SMILES")
    inputs.add_argument("--sequence-column", help="column of protein / DNA / RNA sequences (see --alphabet)")
    parser.add_argument("--alphabet", default="protein", choices=["protein", "dna", "rna"],
                        help="of --sequence-column (default protein)")
    parser.add_argument("--target-columns", nargs="+", required=True,
                        help="measured values; empty cells are missing")
    parser.add_argument("--task-type", default="auto", choices=["auto", "classification", "regression"],
                        help="auto (default): classification when every label is 0 or 1, else regression")
    parser.add_argument("--split", help="scaffold (SMILES default), random (sequence default) or column:NAME (a "
                                        "column holding train / valid / test per row)")
    parser.add_argument("--split-sizes", nargs=3, type=float, default=[0.8, 0.1, 0.1],
                        metavar=("TRAIN", "VALID", "TEST"),
                        help="fractions for scaffold / random splits (default 0.8 0.1 0.1)")


def add_commands(sub) -> None:
    """Add ``finetune``, ``predict`` and ``example`` to the subparsers ``sub`` of ``deepchem-finetune``."""
    from deepchem_finetune.featurizers.molecule import FEATURE_KINDS
    from deepchem_finetune.workflow.prepare import RECOMMENDED_PRETRAINED
    ft = sub.add_parser("finetune",
                        help="fine-tune an ensemble from a zoo backbone on your CSV; writes a model folder")
    add_table_arguments(ft)
    ft.add_argument("--out", required=True, help="model folder to write")
    ft.add_argument("--pretrained", help="zoo name, pretrained folder, 'none' (from scratch) or 'auto' (the top "
                    "entry of `deepchem-finetune rank` on the training part; the ranking is saved in the model "
                    f"folder as ranking.json / ranking.txt); default the zoo's recommended backbone: "
                    f"{RECOMMENDED_PRETRAINED}")
    ft.add_argument("--strategy", default="full",
                    choices=["full", "frozen", "gradual_unfreeze", "layerwise_lr", "l2_sp"], help="default full")
    ft.add_argument("--strategy-option", action="append", metavar="KEY=VALUE",
                    help="e.g. alpha=0.01 for l2_sp, decay=0.8 for layerwise_lr, head_lr_mult=5 (repeatable)")
    ft.add_argument("--recipe", default="stable", choices=sorted(RECIPES), help="default stable; " + _recipe_help())
    ft.add_argument("--lr", type=float, help="peak learning rate of the head (default: the recipe's)")
    ft.add_argument("--backbone-lr-ratio", type=float, metavar="R",
                    help="from a pretrained backbone: its learning rate as a fraction of the head's, in [0.001, 1] "
                         "(default: the recipe's, " + ", ".join(f"{v['backbone_lr_ratio']:g} for {k}"
                                                                for k, v in PRESETS.items())
                         + "; 1 measured better on the smallest set, FreeSolv, and worse on three of the other five: "
                           "benchmarks/RESULTS.md)")
    ft.add_argument("--seed", type=int, default=0, help="split seed; member k uses seed + k (default 0)")
    ft.add_argument("--ensemble", type=int, default=5, help="members, each selected on the validation part (default 5)")
    ft.add_argument("--max-epochs", type=int, default=100, help="default 100")
    ft.add_argument("--patience", type=int, default=20,
                    help="epochs without validation improvement before stopping (default 20)")
    ft.add_argument("--batch-size", type=int, default=32, help="default 32")
    ft.add_argument("--metric", choices=["roc_auc", "rmse", "spearman"],
                    help="selection metric (default roc_auc for classification, rmse for regression)")
    ft.add_argument("--num-layers", type=int, help="from-scratch GNN layers (default 5)")
    ft.add_argument("--hidden-dim", type=int, help="from-scratch GNN width (default 300)")
    ft.add_argument("--width", type=int, help="from-scratch SeqCNN width (default 128)")
    ft.add_argument("--depth", type=int, help="from-scratch SeqCNN residual blocks (default 8)")
    ft.add_argument("--dropout", type=float, help="backbone dropout (default: the pretrained backbone's)")
    ft.add_argument("--max-length", type=int, help="from-scratch sequences: tokens per sequence (default: the "
                                                   "longest in the file; longer ones are refused at predict time)")
    ft.add_argument("--extra-features", nargs="+", choices=FEATURE_KINDS, metavar="KIND",
                    help="SMILES: molecule-level features fed to the head beside the graph (or SMILES-token) "
                         "embedding (ecfp4, rdkit2d; scaled on the training part, saved with the model; predict "
                         "computes them too)")
    ft.add_argument("--time-budget", type=float, help="minutes; members not started by then are reported")
    ft.add_argument("--skip-invalid", action="store_true", help="leave out unusable rows (listed in "
                                                                "MODEL_DIR/skipped_rows.csv) instead of stopping")
    ft.add_argument("--quick", action="store_true", help="smoke test: at most 2 members and 3 epochs")
    ft.add_argument("--overwrite", action="store_true", help="replace a model folder already at --out")
    ft.add_argument("--no-progress", action="store_true", help="hide progress bars")
    ft.set_defaults(func=_cmd_finetune)

    pr = sub.add_parser("predict", help="predict every row of a CSV with a model folder written by finetune")
    pr.add_argument("model_dir", help="folder written by deepchem-finetune finetune")
    pr.add_argument("data", help="CSV with the same input column (other columns are kept)")
    pr.add_argument("--out", required=True, help="CSV to write: the input's columns, <target>_pred, <target>_std, "
                                                 "status")
    column = pr.add_mutually_exclusive_group()
    column.add_argument("--smiles-column", help="input column, if not the one the model was trained on")
    column.add_argument("--sequence-column", help="input column, if not the one the model was trained on")
    pr.set_defaults(func=_cmd_predict)

    ex = sub.add_parser("example", help="list the example CSVs shipped with the package, print a path or copy one")
    ex.add_argument("name", nargs="?", help="esol or gb1 (none: list them)")
    ex.add_argument("--out", help="copy the CSV here (default: print its path inside the package)")
    ex.set_defaults(func=_cmd_example)
