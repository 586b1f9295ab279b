"""skae: autoencoders that behave exactly like scikit-learn transformers."""

from ._autoencoder import Autoencoder
from ._contractive import ContractiveAutoencoder
from ._denoising import DenoisingAutoencoder
from ._sparse import SparseAutoencoder
from .exceptions import TrainingDivergedError

__version__ = "0.1.0"

__all__ = [
    "Autoencoder",
    "ContractiveAutoencoder",
    "DenoisingAutoencoder",
    "SparseAutoencoder",
    "TrainingDivergedError",
    "__version__",
]
