"""Categorical molecular-graph featurizer (integer indices per atom and bond).

Each atom and bond is described by a few named categorical features; the GNN embeds each with its own
table and sums them (Hu et al., 2020). The ``"hu2020"`` preset reproduces the inputs of the published
pretrain-gnns weights exactly; ``"rich"`` adds degree, charge, hydrogens, hybridisation, aromaticity
and ring membership for our own pretraining.

Index conventions (per feature): values ``0 .. n_values-1`` are real categories; every feature also
reserves a *self-loop* index (used by the GNN for the edge a node sends to itself) and a *mask* index
(used by attribute-masking pretraining). The pair ``(cardinality, self_loop, mask)`` is part of the spec
stored in pretrained folders.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from rdkit import Chem

from deepchem_finetune._compat import import_deepchem_quietly
from deepchem_finetune.exceptions import FeaturizationError
from deepchem_finetune.featurizers.on_error import OnErrorMixin

dc = import_deepchem_quietly()

_CHIRAL = {
    Chem.ChiralType.CHI_UNSPECIFIED: 0,
    Chem.ChiralType.CHI_TETRAHEDRAL_CW: 1,
    Chem.ChiralType.CHI_TETRAHEDRAL_CCW: 2,
}
_BOND_TYPE = {
    Chem.BondType.SINGLE: 0,
    Chem.BondType.DOUBLE: 1,
    Chem.BondType.TRIPLE: 2,
    Chem.BondType.AROMATIC: 3,
}
_BOND_DIR = {
    Chem.BondDir.NONE: 0,
    Chem.BondDir.ENDUPRIGHT: 1,
    Chem.BondDir.ENDDOWNRIGHT: 2,
}
_HYBRID = {
    Chem.HybridizationType.S: 0, Chem.HybridizationType.SP: 1, Chem.HybridizationType.SP2: 2,
    Chem.HybridizationType.SP3: 3, Chem.HybridizationType.SP3D: 4, Chem.HybridizationType.SP3D2: 5,
}
_STEREO = {
    Chem.BondStereo.STEREONONE: 0, Chem.BondStereo.STEREOANY: 1, Chem.BondStereo.STEREOZ: 2,
    Chem.BondStereo.STEREOE: 3, Chem.BondStereo.STEREOCIS: 4, Chem.BondStereo.STEREOTRANS: 5,
}


def _atomic_num(atom):
    z = atom.GetAtomicNum()
    if not 1 <= z <= 118:
        raise ValueError(f"atom {atom.GetIdx()} has atomic number {z} (dummy/query atoms are not supported)")
    return z - 1


# name -> (function, cardinality, self_loop index, mask index).  Out-of-range values map to the
# documented "other" bucket (n_real - 1) so no molecule is rejected for a rare charge or degree.
ATOM_FEATURES: Dict[str, Tuple] = {
    # Hu et al.: 118 elements at 0..117, mask token 119 (table of 120 rows).
    "atomic_num": (_atomic_num, 120, 118, 119),
    # Hu et al.'s table has 3 rows: CHI_OTHER (non-tetrahedral, rare) maps to 0 (unspecified).
    "chirality": (lambda a: _CHIRAL.get(a.GetChiralTag(), 0), 3, 0, 0),
    "degree": (lambda a: min(a.GetDegree(), 6), 9, 7, 8),
    "formal_charge": (lambda a: min(max(a.GetFormalCharge(), -3), 3) + 3, 9, 7, 8),
    "num_hs": (lambda a: min(a.GetTotalNumHs(), 4), 7, 5, 6),
    "hybridization": (lambda a: _HYBRID.get(a.GetHybridization(), 6), 9, 7, 8),
    "aromatic": (lambda a: int(a.GetIsAromatic()), 4, 2, 3),
    "in_ring": (lambda a: int(a.IsInRing()), 4, 2, 3),
}


def _bond_type(bond):
    t = bond.GetBondType()
    if t not in _BOND_TYPE:
        raise ValueError(f"bond {bond.GetIdx()} has unsupported type {t}")
    return _BOND_TYPE[t]


BOND_FEATURES: Dict[str, Tuple] = {
    # Hu et al.: 0..3 real bond types, 4 = self loop, 5 = mask.
    "bond_type": (_bond_type, 6, 4, 5),
    "bond_dir": (lambda b: _BOND_DIR.get(b.GetBondDir(), 0), 3, 0, 0),
    "stereo": (lambda b: _STEREO.get(b.GetStereo(), 0), 8, 6, 7),
    "conjugated": (lambda b: int(b.GetIsConjugated()), 4, 2, 3),
    "bond_in_ring": (lambda b: int(b.IsInRing()), 4, 2, 3),
}

PRESETS: Dict[str, Tuple[Tuple[str, ...], Tuple[str, ...]]] = {
    "hu2020": (("atomic_num", "chirality"), ("bond_type", "bond_dir")),
    "rich": (
        ("atomic_num", "chirality", "degree", "formal_charge", "num_hs", "hybridization", "aromatic",
         "in_ring"),
        ("bond_type", "bond_dir", "stereo", "conjugated", "bond_in_ring"),
    ),
}


class MolGraphFeaturizer(OnErrorMixin, dc.feat.MolecularFeaturizer):
    """Featurize molecules as graphs of categorical atom and bond indices.

    Produces ``dc.feat.GraphData`` with integer ``node_features`` of shape ``(n_atoms, n_atom_features)``,
    ``edge_index`` of shape ``(2, 2 * n_bonds)`` (each bond as two directed edges, atom order kept as in
    the input) and integer ``edge_features`` of shape ``(2 * n_bonds, n_bond_features)``. A molecule
    without bonds gets ``edge_index`` of shape ``(2, 0)``.

    Parameters
    ----------
    preset: str, optional (default "hu2020")
        ``"hu2020"`` (atomic number, chirality; bond type, bond direction: the inputs of the published
        pretrain-gnns weights) or ``"rich"``. Ignored where both feature lists are given.
    atom_features: sequence of str, optional
        Names from :data:`ATOM_FEATURES`.
    bond_features: sequence of str, optional
        Names from :data:`BOND_FEATURES`.
    extra_features: sequence of str, optional (default ())
        Molecule-level feature vectors computed beside the graph, from
        :data:`~deepchem_finetune.featurizers.molecule.FEATURE_KINDS` (``"ecfp4"``, ``"rdkit2d"``): stored on each
        ``GraphData`` as ``molecule_features`` (float32; NaN where a descriptor fails) and fed to the task head
        beside the graph embedding (see :class:`~deepchem_finetune.models.MolGNNModel`). Part of the spec; a
        backbone pretrained without them loads into a model with them (they do not touch the backbone).
    on_error: str, optional (default "raise")
        ``"raise"``: :meth:`featurize` raises :class:`FeaturizationError` for the first molecule that fails.
        ``"skip"``: such a molecule gets an empty array, which ``dc.data.CSVLoader`` and DeepChem's other
        loaders drop, and is logged and recorded in ``skipped`` as ``(row, input, reason)``; under
        ``CSVLoader`` ``row`` is the 0-based data row of the file, header not counted (see
        :mod:`~deepchem_finetune.featurizers.on_error`). Not part of :meth:`get_spec`.

    Examples
    --------
    >>> f = MolGraphFeaturizer("hu2020")
    >>> g = f.featurize(["CCO"])[0]
    >>> g.node_features.tolist(), g.edge_index.shape
    ([[5, 0], [5, 0], [7, 0]], (2, 4))
    >>> skipping = MolGraphFeaturizer(on_error="skip")
    >>> out = skipping.featurize(["CCO", "*C"])
    >>> out[1].size, skipping.skipped[0][:2]
    (0, (1, '*C'))

    References
    ----------
    Hu, W. et al. Strategies for Pre-training Graph Neural Networks. ICLR 2020.
    """

    def __init__(self, preset: str = "hu2020", atom_features: Optional[Sequence[str]] = None,
                 bond_features: Optional[Sequence[str]] = None, extra_features: Sequence[str] = (),
                 on_error: str = "raise"):
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
        default_atoms, default_bonds = PRESETS[preset]
        atom_features = tuple(atom_features) if atom_features is not None else default_atoms
        bond_features = tuple(bond_features) if bond_features is not None else default_bonds
        for name in atom_features:
            if name not in ATOM_FEATURES:
                raise ValueError(f"unknown atom feature {name!r}; choose from {sorted(ATOM_FEATURES)}")
        for name in bond_features:
            if name not in BOND_FEATURES:
                raise ValueError(f"unknown bond feature {name!r}; choose from {sorted(BOND_FEATURES)}")
        from deepchem_finetune.featurizers.molecule import check_kinds
        extra_features = check_kinds(extra_features)
        # Attribute names equal the __init__ argument names: DeepChem builds its cache key from them.
        self.extra_features = extra_features
        self.preset = preset
        self.atom_features = atom_features
        self.bond_features = bond_features
        self._init_on_error(on_error)
        self._atom_fns = [ATOM_FEATURES[n][0] for n in atom_features]
        self._bond_fns = [BOND_FEATURES[n][0] for n in bond_features]

    # ------------------------------------------------------------------ spec
    @property
    def atom_cardinalities(self) -> List[int]:
        """Embedding-table sizes of the atom features, in order."""
        return [ATOM_FEATURES[n][1] for n in self.atom_features]

    @property
    def bond_cardinalities(self) -> List[int]:
        """Embedding-table sizes of the bond features, in order."""
        return [BOND_FEATURES[n][1] for n in self.bond_features]

    @property
    def bond_self_loop(self) -> List[int]:
        """Bond-feature indices of the self-loop edge the GNN adds to every atom."""
        return [BOND_FEATURES[n][2] for n in self.bond_features]

    @property
    def atom_mask(self) -> List[int]:
        """Atom-feature indices written on masked atoms by attribute masking."""
        return [ATOM_FEATURES[n][3] for n in self.atom_features]

    @property
    def bond_mask(self) -> List[int]:
        """Bond-feature indices written on masked bonds by attribute masking."""
        return [BOND_FEATURES[n][3] for n in self.bond_features]

    @property
    def extra_dim(self) -> int:
        """Width of ``molecule_features`` (0 without ``extra_features``)."""
        from deepchem_finetune.featurizers.molecule import feature_names
        return len(feature_names(self.extra_features))

    def get_spec(self) -> dict:
        """JSON-able ``{name, config}`` that :func:`featurizer_from_spec` turns back into this featurizer
        (``extra_features`` only when there are some, so specs written before the option compare equal)."""
        config = {"preset": self.preset, "atom_features": list(self.atom_features),
                  "bond_features": list(self.bond_features)}
        if self.extra_features:
            config["extra_features"] = list(self.extra_features)
        return {"name": "MolGraphFeaturizer", "config": config}

    def __str__(self) -> str:
        """A short name that is unique per spec: DeepChem's ``dc.molnet`` loaders make a folder of it, and the
        spelled-out feature lists (DeepChem's default) overflow a file name with ``extra_features``.

        Examples
        --------
        >>> str(MolGraphFeaturizer("rich", extra_features=["ecfp4"])).startswith("MolGraphFeaturizer_rich_")
        True
        """
        import hashlib
        import json
        digest = hashlib.sha256(json.dumps(self.get_spec(), sort_keys=True).encode()).hexdigest()[:12]
        return f"MolGraphFeaturizer_{self.preset}_{digest}" + (
            f"_on_error_{self.on_error}" if self.on_error != "raise" else "")

    def input_encoding(self) -> dict:
        """How a GNN must embed this featurizer's output (see :class:`~deepchem_finetune.backbones.encoders`)."""
        return {"kind": "categorical", "atom_cardinalities": self.atom_cardinalities,
                "bond_cardinalities": self.bond_cardinalities, "bond_self_loop": self.bond_self_loop}

    # ------------------------------------------------------------ featurize
    def _featurize(self, datapoint, **kwargs):
        mol = datapoint
        x = np.array([[fn(a) for fn in self._atom_fns] for a in mol.GetAtoms()], dtype=np.int64)
        if x.size == 0:
            raise ValueError("molecule has no atoms")
        n_b = mol.GetNumBonds()
        if n_b:
            src = np.empty(2 * n_b, dtype=np.int64)
            dst = np.empty(2 * n_b, dtype=np.int64)
            e = np.empty((2 * n_b, len(self._bond_fns)), dtype=np.int64)
            for k, b in enumerate(mol.GetBonds()):
                i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
                feats = [fn(b) for fn in self._bond_fns]
                src[2 * k], dst[2 * k] = i, j
                src[2 * k + 1], dst[2 * k + 1] = j, i
                e[2 * k] = feats
                e[2 * k + 1] = feats
            edge_index = np.stack([src, dst])
        else:
            edge_index = np.zeros((2, 0), dtype=np.int64)
            e = np.zeros((0, len(self._bond_fns)), dtype=np.int64)
        if not self.extra_features:
            return dc.feat.GraphData(node_features=x, edge_index=edge_index, edge_features=e)
        from deepchem_finetune.featurizers.molecule import molecule_vector
        return dc.feat.GraphData(node_features=x, edge_index=edge_index, edge_features=e,
                                 molecule_features=molecule_vector(mol, self.extra_features))

    def featurize(self, datapoints, log_every_n: int = 1000, **kwargs) -> np.ndarray:
        """Featurize SMILES strings or RDKit molecules: an object array of ``GraphData``.

        With ``on_error="skip"`` a molecule that fails gets an empty array instead (DeepChem's failure
        marker) and is recorded in ``skipped``. :func:`~deepchem_finetune.featurizers.featurize_smiles`
        returns the kept rows and the failures separately.

        Raises
        ------
        FeaturizationError
            With ``on_error="raise"``: with the row and the SMILES of the first molecule that fails to parse
            or featurize (the row: the position in ``datapoints``, or its index label for a
            ``pandas.Series``, which under ``dc.data.CSVLoader`` is the data row of the file).
        """
        if isinstance(datapoints, (str, Chem.Mol)):
            datapoints = [datapoints]
        feats, _ = self._featurize_rows(datapoints, self.featurize_one)
        out = np.empty(len(feats), dtype=object)
        for i, g in enumerate(feats):
            out[i] = g if g is not None else self._failed()
        return out

    def featurize_one(self, datapoint, index: int = 0):
        """Featurize one SMILES or molecule; ``index`` is only used in the error message."""
        mol = datapoint
        if isinstance(datapoint, str):
            mol = Chem.MolFromSmiles(datapoint)
            if mol is None:
                raise FeaturizationError(
                    f"SMILES at index {index} could not be parsed by RDKit: {datapoint!r}", index, datapoint)
        elif not isinstance(datapoint, Chem.Mol):
            raise FeaturizationError(
                f"input at index {index} is a {type(datapoint).__name__}, expected a SMILES string or an "
                "RDKit Mol", index, datapoint)
        try:
            return self._featurize(mol)
        except ValueError as err:
            smi = datapoint if isinstance(datapoint, str) else Chem.MolToSmiles(mol)
            raise FeaturizationError(f"molecule at index {index} ({smi!r}) could not be featurized: {err}",
                                     index, smi) from err
