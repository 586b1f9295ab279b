"""skae: autoencoders that behave exactly like scikit-learn transformers."""

from ._autoencoder import Autoencoder
from .exceptions import TrainingDivergedError

__version__ = "0.1.0"

__all__ = ["Autoencoder", "TrainingDivergedError", "__version__"]
