"""On-disk format of a *pretrained* artifact: a folder with ``weights.safetensors`` and a plain-JSON ``config.json``
(format, backbone / featurizer / objective specs, extra, provenance, weights sha256).

A pretrained artifact holds a backbone only (heads are task-specific); it is not a *training checkpoint*
(DeepChem's ``save_checkpoint`` / ``restore`` files with optimizer state, see
:meth:`~deepchem_finetune.models.BackboneModel.save_checkpoint`). Foreign PyTorch files are never unpickled:
:func:`safe_torch_load` uses ``torch.load(weights_only=True)``."""
from __future__ import annotations

import hashlib
import json
import math
import os
import pickle
import platform
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata

import torch
from safetensors.torch import load_file, save_file

from deepchem_finetune._version import __version__
from deepchem_finetune.exceptions import PretrainedError
from deepchem_finetune.storage import atomic_folder

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "PretrainedArtifact", "write_pretrained", "read_pretrained_dir",
           "load_state_dict_strict", "safe_torch_load", "collect_provenance", "file_sha256"]

FORMAT_NAME = "deepchem-finetune-pretrained"
FORMAT_VERSION = 1
WEIGHTS_FILE, CONFIG_FILE = "weights.safetensors", "config.json"
_MAX_LISTED = 20


def _dist_version(*names: str) -> str | None:
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return None


def collect_provenance(**fields) -> dict:
    """Package versions (``None`` if not installed), Python version, ``created_utc`` and caller ``fields`` (which win).

    Examples
    --------
    >>> prov = collect_provenance(seed=0, steps=100)
    >>> sorted(k for k in prov if k in ("torch", "created_utc", "seed"))
    ['created_utc', 'seed', 'torch']
    """

    prov = {"deepchem_finetune": __version__, "deepchem": _dist_version("deepchem", "deepchem-nightly"),
            "torch": _dist_version("torch"), "torch_geometric": _dist_version("torch-geometric"),
            "rdkit": _dist_version("rdkit", "rdkit-pypi"), "numpy": _dist_version("numpy"),
            "python": platform.python_version(),
            "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    prov.update(fields)
    return prov


def file_sha256(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks of ``chunk_size`` bytes.

    Examples
    --------
    >>> file_sha256("ckpt/weights.safetensors")  # doctest: +SKIP
    '3b1f...'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class PretrainedArtifact:
    """A loaded pretrained folder: its ``path``, the full ``config`` dict and the ``state_dict``.

    Examples
    --------
    >>> read_pretrained_dir("ckpt").backbone["name"]  # doctest: +SKIP
    """
    path: str
    config: dict
    state_dict: dict

    backbone = property(lambda self: self.config["backbone"], doc="Backbone spec ``{name, config}``.")
    featurizer = property(lambda self: self.config["featurizer"], doc="Featurizer spec ``{name, config}``.")
    objective = property(lambda self: self.config["objective"], doc="Pretraining objective spec.")
    provenance = property(lambda self: self.config.get("provenance", {}), doc="Provenance dict.")
    extra = property(lambda self: self.config.get("extra", {}), doc="Extra plain-JSON data (e.g. scalers).")

    def save(self, path: str | os.PathLike) -> str:
        """Write this artifact as a pretrained folder (:func:`write_pretrained`); returns the path."""
        return write_pretrained(path, self.state_dict, self.backbone, self.featurizer, self.objective,
                                self.provenance, self.extra)


def _check_json(value, key: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise TypeError(f"config value at {key!r} is {value}: NaN/inf is not valid JSON; store None or a string")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"config key {k!r} under {key!r} is a {type(k).__name__}; JSON keys must be str")
            _check_json(v, f"{key}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_json(v, f"{key}[{i}]")
    elif not (value is None or isinstance(value, (str, bool, int, float))):
        raise TypeError(f"config value at {key!r} is not JSON-serialisable: {type(value).__name__} "
                        f"{str(value)[:60]!r}; convert it to str/int/float/bool/None/list/dict")


def write_pretrained(path: str | os.PathLike, state_dict: dict, backbone: dict, featurizer: dict,
                        objective: dict, provenance: dict, extra: dict | None = None) -> str:
    """Write a pretrained folder atomically: built in a ``.tmp-`` sibling folder, then renamed into place.

    Parameters
    ----------
    path: folder to write; an existing folder holding only pretrained files is replaced, anything else there
        raises ``FileExistsError``. state_dict: str -> Tensor (stored as contiguous CPU copies).
    backbone, featurizer, objective: ``{"name": str, "config": dict}``. provenance: see :func:`collect_provenance`.
    extra: default ``{}``. All specs must be plain JSON (``TypeError`` names the bad key; tuples return as lists).

    Returns
    -------
    str
        ``os.fspath(path)``.

    Examples
    --------
    >>> write_pretrained("ckpt", net.state_dict(), {"name": "gin", "config": {}},
    ...                     {"name": "graph", "config": {}}, {"name": "masking", "config": {}},
    ...                     collect_provenance(seed=0))  # doctest: +SKIP
    'ckpt'
    """
    path = os.fspath(path)
    for section, spec in (("backbone", backbone), ("featurizer", featurizer), ("objective", objective)):
        if not (isinstance(spec, dict) and isinstance(spec.get("name"), str) and isinstance(spec.get("config"), dict)):
            raise ValueError(f"{section} spec must be a dict {{'name': str, 'config': dict}}, got {spec!r:.200}")
    config = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "backbone": backbone, "featurizer": featurizer,
              "objective": objective, "extra": {} if extra is None else extra, "provenance": provenance}
    _check_json(config, "config")
    tensors = {}
    for key, value in state_dict.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise TypeError(f"state_dict entry {key!r} must map a str to a torch.Tensor, got {type(value).__name__}")
        tensors[key] = value.detach().to("cpu").contiguous().clone()  # clone: safetensors rejects shared storage
    if os.path.lexists(path) and not (os.path.isdir(path) and set(os.listdir(path)) <= {WEIGHTS_FILE, CONFIG_FILE}):
        raise FileExistsError(f"{path} exists and is not a pretrained folder; remove it or choose another path")
    with atomic_folder(path) as tmp:  # a reader sees the previous folder or the new one, never a mix
        weights = os.path.join(tmp, WEIGHTS_FILE)
        save_file(tensors, weights, metadata={"format": "pt"})
        config["weights_sha256"] = file_sha256(weights)
        with open(os.path.join(tmp, CONFIG_FILE), "w", encoding="utf-8") as fh:
            fh.write(json.dumps(config, indent=2, sort_keys=True, allow_nan=False) + "\n")
    return path


def read_pretrained_dir(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> PretrainedArtifact:
    """Read and verify a pretrained folder written by :func:`write_pretrained`.

    Raises :class:`~deepchem_finetune.exceptions.PretrainedError` if the path is no folder, a file is missing,
    the config is not ours or newer, the sha256 differs or the weights do not parse. Tensors go to ``map_location``.

    Examples
    --------
    >>> ckpt = read_pretrained_dir("ckpt")  # doctest: +SKIP
    >>> load_state_dict_strict(backbone, ckpt.state_dict, source="ckpt")  # doctest: +SKIP
    """
    path = os.fspath(path)
    if os.path.isfile(path):
        msg = f"{path} is a file, not a deepchem-finetune pretrained folder (one with {CONFIG_FILE} and {WEIGHTS_FILE})"
        with open(path, "rb") as fh:
            head = fh.read(2)  # torch zip archive or pickle protocol 2-5
        if head == b"PK" or head[:1] == b"\x80" or path.endswith((".pt", ".pth", ".pkl", ".ckpt", ".bin")):
            msg += (". It looks like a PyTorch/pickle file; foreign torch files are never unpickled here. To import "
                    "plain weights, read them explicitly with deepchem_finetune.hub.safe_torch_load "
                    "(torch.load with weights_only=True) and load them with load_state_dict_strict")
        elif os.path.basename(path) in (CONFIG_FILE, WEIGHTS_FILE):
            msg += f"; pass its folder {os.path.dirname(path) or '.'!r} instead"
        raise PretrainedError(msg)
    if not os.path.isdir(path):
        raise PretrainedError(f"no pretrained folder at {path}: check the path (expected a folder written by "
                              f"write_pretrained, holding {CONFIG_FILE} and {WEIGHTS_FILE})")
    config_path, weights_path = os.path.join(path, CONFIG_FILE), os.path.join(path, WEIGHTS_FILE)
    for needed in (CONFIG_FILE, WEIGHTS_FILE):
        if not os.path.isfile(os.path.join(path, needed)):
            raise PretrainedError(f"pretrained folder {path} lacks {needed}; it is incomplete: copy it again "
                                  f"or re-create it with write_pretrained")
    try:
        with open(config_path, encoding="utf-8") as fh:
            config = json.load(fh)
    except ValueError as exc:  # includes JSONDecodeError and UnicodeDecodeError
        raise PretrainedError(f"{config_path} is not valid JSON ({exc}); the pretrained folder is damaged or not made "
                              f"by deepchem-finetune; re-create or re-download it") from exc
    if not isinstance(config, dict) or config.get("format") != FORMAT_NAME:
        found = config.get("format") if isinstance(config, dict) else type(config).__name__
        raise PretrainedError(f"{path} is not made by deepchem-finetune: {CONFIG_FILE} has format {found!r}, "
                              f"expected {FORMAT_NAME!r}; use a folder written by write_pretrained")
    version = config.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise PretrainedError(f"{config_path} has an invalid format_version {version!r}; it was edited or damaged")
    if version > FORMAT_VERSION:
        raise PretrainedError(f"{path} was written by a newer deepchem-finetune (format {version} > "
                              f"{FORMAT_VERSION}); upgrade the package: pip install -U deepchem-finetune")
    lacking = [key for key in ("backbone", "featurizer", "objective", "weights_sha256") if key not in config]
    if lacking:
        raise PretrainedError(f"{config_path} lacks the keys {lacking}; it was edited or damaged")
    actual = file_sha256(weights_path)
    if actual != config["weights_sha256"]:
        raise PretrainedError(f"checksum mismatch for {weights_path}: sha256 {actual}, {CONFIG_FILE} records "
                              f"{config['weights_sha256']}; the file is corrupted or modified: re-create or "
                              f"re-download the pretrained folder")
    try:
        state_dict = load_file(weights_path, device="cpu")
    except Exception as exc:  # safetensors raises its own error type on truncated / malformed files
        raise PretrainedError(f"could not parse {weights_path} as safetensors ({type(exc).__name__}: {exc}); "
                              f"re-create or re-download the pretrained folder") from exc
    if str(map_location) != "cpu":
        state_dict = {k: v.to(map_location) for k, v in state_dict.items()}
    return PretrainedArtifact(path=path, config=config, state_dict=state_dict)


def _listed(items: list) -> str:
    shown = [f"    {item}" for item in items[:_MAX_LISTED]]
    if len(items) > _MAX_LISTED:
        shown.append(f"    ... and {len(items) - _MAX_LISTED} more")
    return "\n".join(shown)


def load_state_dict_strict(module: torch.nn.Module, state_dict: dict, source: str = "pretrained weights") -> None:
    """Load ``state_dict`` into ``module`` by name, or raise one PretrainedError listing every missing,
    unexpected and mis-shaped key (each list cut at 20 entries). ``source`` names the weights in messages.

    Examples
    --------
    >>> net = torch.nn.Linear(2, 1)
    >>> load_state_dict_strict(net, torch.nn.Linear(2, 1).state_dict())
    """
    expected = module.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    mismatched = [f"{k}: model expects {tuple(want.shape)}, {source} has {tuple(state_dict[k].shape)}"
                  for k, want in expected.items()
                  if k in state_dict and hasattr(state_dict[k], "shape") and not torch.nn.parameter.is_lazy(want)
                  and tuple(state_dict[k].shape) != tuple(want.shape)]
    if missing or unexpected or mismatched:
        parts = [f"{source} does not fit {type(module).__name__}: {len(missing)} missing, "
                 f"{len(unexpected)} unexpected, {len(mismatched)} mis-shaped keys"]
        if missing:
            parts.append(f"  missing keys (in the model, not in {source}):\n{_listed(missing)}")
        if unexpected:
            parts.append(f"  unexpected keys (in {source}, not in the model):\n{_listed(unexpected)}")
        if mismatched:
            parts.append(f"  shape mismatches:\n{_listed(mismatched)}")
        parts.append("  Fix: build the backbone from the config stored with the weights, or use weights made "
                     "for this architecture.")
        raise PretrainedError("\n".join(parts))
    module.load_state_dict(state_dict, strict=True)


def safe_torch_load(path: str | os.PathLike):
    """Read a foreign ``.pt``/``.pth`` file with ``torch.load(weights_only=True)``, never running pickled code.

    Returns the content (usually a state dict, maybe nested as ``{"state_dict": ...}``) if it is only tensors and
    plain containers; otherwise raises PretrainedError.

    Examples
    --------
    >>> state = safe_torch_load("pretrained.pth")  # doctest: +SKIP
    >>> load_state_dict_strict(backbone, state, source="pretrained.pth")  # doctest: +SKIP
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise PretrainedError(f"no file at {path}: check the path")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        text = str(exc).lower()
        if isinstance(exc, pickle.UnpicklingError) or (isinstance(exc, RuntimeError) and "weights" in text
                                                       and "only" in text):
            raise PretrainedError(f"refusing to unpickle {path}: it contains objects other than tensors; loading it "
                                  f"could run code. Re-export it as a plain state dict (torch.save(model.state_dict()"
                                  f", ...)) or as safetensors") from exc
        raise PretrainedError(f"could not read {path} as a PyTorch file ({type(exc).__name__}: {exc}); "
                              f"it is damaged or not a torch file") from exc
