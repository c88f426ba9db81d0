"""The two-command workflow on the user's own CSV: ``finetune`` (an ensemble fine-tuned from a zoo backbone, written
as a self-describing model folder) and ``predict`` (every row, with the ensemble's mean and spread).

=================  ==========================================================================================
``table``          reading the CSV as written, row / line names, labels, split column, featurizing a column
``prepare``        the data side of ``finetune``: featurizer, unusable rows, split, label normalisation
``finetune``       :func:`finetune_csv`: the members, their scores, the model folder
``predict``        :func:`predict_csv`
``folder``         the model folder's format (safetensors + JSON, a format marker)
``ensemble``       :class:`EnsembleModel`: the members as one DeepChem model, their spread as uncertainty
``evaluation``     scores per target, Spearman(|error|, std), expected calibration error, the calibration picture
``commands``       the ``finetune``, ``predict`` and ``example`` subcommands of ``deepchem-finetune``
=================  ==========================================================================================
"""
from deepchem_finetune.workflow.ensemble import EnsembleModel
from deepchem_finetune.workflow.finetune import finetune_csv
from deepchem_finetune.workflow.predict import predict_csv
from deepchem_finetune.workflow.prepare import RECOMMENDED_PRETRAINED

__all__ = ["EnsembleModel", "finetune_csv", "predict_csv", "RECOMMENDED_PRETRAINED"]
