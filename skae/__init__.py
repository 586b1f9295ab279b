"""skae: autoencoders that behave exactly like scikit-learn transformers."""

from ._autoencoder import Autoencoder
from ._contractive import ContractiveAutoencoder
from ._conv import ConvAutoencoder, ConvVariationalAutoencoder
from ._denoising import DenoisingAutoencoder
from ._outlier import AutoencoderOutlierDetector
from ._sparse import SparseAutoencoder
from ._stacked import StackedAutoencoder, StackedAutoencoderClassifier
from ._variational import VariationalAutoencoder
from .exceptions import OvercompleteCodeWarning, TrainingDivergedError

__version__ = "0.1.0"

__all__ = [
    "Autoencoder",
    "AutoencoderOutlierDetector",
    "ContractiveAutoencoder",
    "ConvAutoencoder",
    "ConvVariationalAutoencoder",
    "DenoisingAutoencoder",
    "OvercompleteCodeWarning",
    "SparseAutoencoder",
    "StackedAutoencoder",
    "StackedAutoencoderClassifier",
    "TrainingDivergedError",
    "VariationalAutoencoder",
    "__version__",
]
