"""Plots of autoencoders: scikit-learn-style display objects.

Each display follows the convention of :class:`sklearn.metrics.ConfusionMatrixDisplay`:
a classmethod ``from_estimator`` (or ``from_arrays`` / ``from_history``) checks the
estimator, computes what to draw and calls its ``plot`` method, which draws on new or given
matplotlib axes, stores the figure and artists in attributes ending in ``_`` and
returns the display. The data a display draws are kept as its public attributes, so
a display can be re-plotted (``display.plot(cmap="viridis")``) without recomputing.

* :class:`ReconstructionDisplay`: originals above reconstructions (several methods,
  optionally the corrupted inputs of a denoiser);
* :class:`FilterDisplay`: first-layer weights (dense or convolutional) as tiles;
* :class:`LatentSpaceDisplay`: 2-D scatter of the codes, coloured by label;
* :class:`SampleDisplay`: samples drawn from a generative model (VAE);
* :class:`LatentManifoldDisplay`: decoded images over a 2-D grid of latent values;
* :class:`TrainingCurveDisplay`: the loss and every penalty term per epoch, one axes
  each.

Images travel as flat rows (what every skae estimator takes): ``C * H * W`` values
per row, channel first. ``image_shape`` is ``(H, W)`` or ``(C, H, W)``; when it is
not given it is the estimator's ``image_shape_`` (convolutional estimators) or, for
a square number of features, ``(sqrt(n), sqrt(n))``. Three channels are drawn as
RGB; other channel counts show their first channel.

matplotlib is an optional dependency (``pip install skae[plots]``), imported only
when something is drawn: ``import skae`` and ``import skae.plotting`` do not import
it.
"""

from ._filters import FilterDisplay
from ._latent_manifold import LatentManifoldDisplay
from ._latent_space import LatentSpaceDisplay
from ._reconstruction import ReconstructionDisplay
from ._samples import SampleDisplay
from ._training_curves import TrainingCurveDisplay

__all__ = [
    "FilterDisplay",
    "LatentManifoldDisplay",
    "LatentSpaceDisplay",
    "ReconstructionDisplay",
    "SampleDisplay",
    "TrainingCurveDisplay",
]
