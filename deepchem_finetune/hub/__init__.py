"""Pretrained artifacts: their on-disk format, the zoo, loading by name or path, and importers of foreign weights.

One word per concept: a *pretrained* artifact (a backbone with its config, featurizer spec and provenance, read
and written here) is not a *training checkpoint* (DeepChem's ``save_checkpoint`` / ``restore`` files, with the
optimizer state, handled by :class:`~deepchem_finetune.models.BackboneModel`).

===================  ==========================================================================================
``format``           the folder format: ``weights.safetensors`` + ``config.json``, atomic writes, strict loading
``zoo``              artifacts shipped inside the package, listed and resolved by name
``loading``          any source (folder, zoo name, ``.pth``) -> artifact; does it fit a backbone?
``pretrain_gnns``    the published Hu et al. (2020) GIN / GCN / GAT / GraphSAGE weights, converted by name
===================  ==========================================================================================
"""
from deepchem_finetune.hub.format import (FORMAT_NAME, FORMAT_VERSION, PretrainedArtifact, collect_provenance,
                                          file_sha256, load_state_dict_strict, read_pretrained_dir, safe_torch_load,
                                          write_pretrained)
from deepchem_finetune.hub.loading import (NON_ARCHITECTURAL, architecture, backbone_artifact, check_fits,
                                           load_weights, read_pretrained, with_extra_features)
from deepchem_finetune.hub.pretrain_gnns import import_pretrain_gnns
from deepchem_finetune.hub.zoo import ZOO_DIR, resolve_source, zoo_names, zoo_table

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "PretrainedArtifact", "write_pretrained", "read_pretrained_dir",
           "load_state_dict_strict", "safe_torch_load", "collect_provenance", "file_sha256", "read_pretrained",
           "architecture", "check_fits", "load_weights", "backbone_artifact", "NON_ARCHITECTURAL",
           "with_extra_features",
           "import_pretrain_gnns", "ZOO_DIR", "zoo_names", "zoo_table", "resolve_source"]
