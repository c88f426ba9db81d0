"""Exceptions raised where user input enters the package.

Every error names the offending value, its position and, where possible, the fix.
"""

__all__ = ["FeaturizationError", "PretrainedError", "CheckpointError", "SpecMismatchError"]


class FeaturizationError(ValueError):
    """A molecule or sequence could not be featurized.

    Attributes
    ----------
    index: int or None
        Position of the offending input in the batch that was featurized.
    value: str or None
        The offending input (e.g. the SMILES string).
    """

    def __init__(self, message: str, index=None, value=None):
        super().__init__(message)
        self.index = index
        self.value = value


class PretrainedError(ValueError):
    """A pretrained artifact (see :mod:`deepchem_finetune.hub`) is unreadable, corrupted, of an unknown format or
    does not fit the model."""


#: Former name of :class:`PretrainedError`, kept so that ``except CheckpointError`` in user code still works.
CheckpointError = PretrainedError


class SpecMismatchError(ValueError):
    """Two specifications (featurizer, backbone) that must agree do not; the message shows both."""
