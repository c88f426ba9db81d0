"""Featurizer specs: the plain-JSON description of a featurizer stored in pretrained folders and models.

A featurizer's *spec* is ``{"name": ..., "config": {...}}``, from which :func:`featurizer_from_spec` rebuilds
the identical featurizer (molfeat's idea). :func:`check_featurizer` compares a featurizer with a stored spec;
:func:`input_encoding` says how a backbone must embed a featurizer's output.

Only what changes the features is in a spec: ``on_error`` (what happens to an input that fails) is not, so a
featurizer built with ``on_error="skip"`` matches the spec of the same featurizer with the default.
"""
from __future__ import annotations

from rdkit import Chem

from deepchem_finetune._compat import import_deepchem_quietly
from deepchem_finetune.exceptions import SpecMismatchError
from deepchem_finetune.featurizers.graph import MolGraphFeaturizer
from deepchem_finetune.featurizers.sequence import SEQUENCE_TOKENIZERS

dc = import_deepchem_quietly()

__all__ = ["featurizer_spec", "featurizer_from_spec", "check_featurizer", "input_encoding"]


def featurizer_spec(featurizer) -> dict:
    """Return the JSON spec of a supported featurizer.

    Supported: :class:`MolGraphFeaturizer`, the sequence tokenizers (:class:`SmilesTokenizer`,
    :class:`ProteinTokenizer`, :class:`NucleotideTokenizer`) and ``dc.feat.MolGraphConvFeaturizer``.

    Examples
    --------
    >>> featurizer_spec(MolGraphFeaturizer("hu2020"))["name"]
    'MolGraphFeaturizer'
    """
    if hasattr(featurizer, "get_spec"):
        return featurizer.get_spec()
    if isinstance(featurizer, dc.feat.MolGraphConvFeaturizer):
        return {"name": "MolGraphConvFeaturizer",
                "config": {"use_edges": bool(featurizer.use_edges),
                           "use_chirality": bool(featurizer.use_chirality),
                           "use_partial_charge": bool(featurizer.use_partial_charge)}}
    raise TypeError(f"featurizer {type(featurizer).__name__} has no spec; use MolGraphFeaturizer, "
                    "dc.feat.MolGraphConvFeaturizer or a sequence tokenizer (SmilesTokenizer, ProteinTokenizer, "
                    "NucleotideTokenizer)")


def featurizer_from_spec(spec: dict):
    """Rebuild a featurizer from :func:`featurizer_spec` output (with the default ``on_error="raise"``).

    Examples
    --------
    >>> f = featurizer_from_spec({"name": "MolGraphFeaturizer", "config": {"preset": "rich"}})
    >>> f.atom_features[:2]
    ('atomic_num', 'chirality')
    """
    name, config = spec.get("name"), dict(spec.get("config", {}))
    if name == "MolGraphFeaturizer":
        return MolGraphFeaturizer(**config)
    if name == "MolGraphConvFeaturizer":
        return dc.feat.MolGraphConvFeaturizer(**config)
    if name in SEQUENCE_TOKENIZERS:
        return SEQUENCE_TOKENIZERS[name].from_config(config)
    raise ValueError(f"unknown featurizer spec name {name!r}; known: "
                     f"{['MolGraphFeaturizer', 'MolGraphConvFeaturizer', *SEQUENCE_TOKENIZERS]}")


def check_featurizer(expected_spec: dict, featurizer) -> None:
    """Raise :class:`SpecMismatchError` showing both specs if ``featurizer`` differs from ``expected_spec``.

    Examples
    --------
    >>> check_featurizer(featurizer_spec(MolGraphFeaturizer()), MolGraphFeaturizer(on_error="skip"))
    >>> check_featurizer(featurizer_spec(MolGraphFeaturizer()), MolGraphFeaturizer("rich"))
    Traceback (most recent call last):
    ...
    deepchem_finetune.exceptions.SpecMismatchError: featurizer does not match the one the model was built for:
    ...
    """
    got = featurizer_spec(featurizer)
    if _normalise(got) != _normalise(expected_spec):
        raise SpecMismatchError(
            "featurizer does not match the one the model was built for:\n"
            f"  model expects: {expected_spec}\n  you passed:    {got}\n"
            "Use model.get_featurizer() to featurize new data.")


def _normalise(spec):
    f = featurizer_from_spec(spec)
    return featurizer_spec(f)


def input_encoding(featurizer) -> dict:
    """How the GNN must encode this featurizer's output: categorical tables or dense linear maps.

    Examples
    --------
    >>> input_encoding(dc.feat.MolGraphConvFeaturizer(use_edges=True))["atom_dim"]
    30
    """
    if hasattr(featurizer, "input_encoding"):
        return featurizer.input_encoding()
    if isinstance(featurizer, dc.feat.MolGraphConvFeaturizer):
        if not featurizer.use_edges:
            raise ValueError("MolGNN needs bond features: use dc.feat.MolGraphConvFeaturizer(use_edges=True)")
        g = featurizer.featurize([Chem.MolFromSmiles("CC")])[0]
        return {"kind": "dense", "atom_dim": int(g.node_features.shape[1]),
                "bond_dim": int(g.edge_features.shape[1])}
    raise TypeError(f"featurizer {type(featurizer).__name__} is not supported by MolGNN")
