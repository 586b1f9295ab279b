"""Tests of skae.plotting: each display is rendered to an in-memory PNG (Agg) and
its artists are checked against the data they must show."""

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from scipy.stats import norm  # noqa: E402
from sklearn.base import BaseEstimator  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.mixture import GaussianMixture  # noqa: E402
from sklearn.neural_network import MLPRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import MinMaxScaler  # noqa: E402

import skae  # noqa: E402
from skae import (  # noqa: E402
    Autoencoder,
    ContractiveAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    StackedAutoencoder,
    VariationalAutoencoder,
)
from skae.plotting import (  # noqa: E402
    FilterDisplay,
    LatentManifoldDisplay,
    LatentSpaceDisplay,
    ReconstructionDisplay,
    SampleDisplay,
    TrainingCurveDisplay,
)

N_FIT = 300  # rows of digits the models are fitted on: enough to draw, fast to fit


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data(digits01):
    X_train, _, y_train, _ = digits01
    return X_train[:N_FIT], y_train[:N_FIT]


@pytest.fixture(scope="module")
def ae(data):
    # early stopping so that the history holds validation curves too
    return Autoencoder(n_components=8, hidden_layer_sizes=(32,), max_iter=3,
                       early_stopping=True, validation_fraction=0.2,
                       random_state=0).fit(data[0])


@pytest.fixture(scope="module")
def sae(data):
    return SparseAutoencoder(n_components=16, hidden_layer_sizes=(), max_iter=3,
                             random_state=0).fit(data[0])


@pytest.fixture(scope="module")
def vae(data):
    return VariationalAutoencoder(n_components=2, hidden_layer_sizes=(32,), max_iter=3,
                                  kl_warmup=2, beta=1.0, random_state=0).fit(data[0])


@pytest.fixture(scope="module")
def dae(data):
    return DenoisingAutoencoder(n_components=8, hidden_layer_sizes=(), noise_level=0.5,
                                max_iter=2, random_state=0).fit(data[0])


@pytest.fixture(scope="module")
def pca(data):
    return PCA(n_components=8).fit(data[0])


def render(fig):
    """The figure as a decoded RGBA PNG array (what a user would see)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    buf.seek(0)
    img = mpimg.imread(buf, format="png")
    assert img.ndim == 3 and img[..., :3].std() > 0, "blank PNG"
    return img


def region_mean(fig, img, ax):
    """Mean grey level of the PNG pixels inside ``ax`` (rendered at the same dpi)."""
    fig.canvas.draw()
    bbox = ax.get_window_extent()
    scale = img.shape[0] / fig.bbox.height
    x0, x1 = (int(round(v * scale)) for v in (bbox.x0, bbox.x1))
    y0, y1 = (int(round(img.shape[0] - v * scale)) for v in (bbox.y1, bbox.y0))
    patch = img[y0 + 1 : y1 - 1, x0 + 1 : x1 - 1, :3]  # inside the border
    return float(patch.mean())


def tile(a):
    return np.asarray(a.get_array())


# --------------------------------------------------------------------------- laziness
def test_import_skae_does_not_import_matplotlib():
    code = ("import sys, skae, skae.plotting; "
            "bad = [m for m in sys.modules if m.split('.')[0] == 'matplotlib']; "
            "assert not bad, bad")
    root = str(Path(skae.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr


# --------------------------------------------------------------------- reconstruction
def test_reconstruction_single_estimator(ae, data):
    X = data[0]
    disp = ReconstructionDisplay.from_estimator(ae, X, n_images=7)
    assert disp.row_labels_ == ["original", "Autoencoder"]
    assert disp.images_.shape == disp.axes_.shape == (2, 7)
    assert len(disp.figure_.axes) == 14
    expected = ae.inverse_transform(ae.transform(X[:7]))
    for j in range(7):
        np.testing.assert_allclose(tile(disp.images_[0, j]), X[j].reshape(8, 8))
        np.testing.assert_allclose(tile(disp.images_[1, j]), expected[j].reshape(8, 8),
                                   rtol=1e-6)
    # every tile uses the originals' colour range
    lo, hi = X[:7].min(), X[:7].max()
    assert all(im.get_clim() == (lo, hi) for im in disp.images_.flat)
    assert disp.axes_[1, 0].get_ylabel() == "Autoencoder"
    render(disp.figure_)


def test_reconstruction_several_methods_and_noisy_input(ae, pca, data):
    X = data[0]
    X_noisy = np.clip(X + np.random.RandomState(0).normal(0, 0.2, X.shape), 0, 1)
    disp = ReconstructionDisplay.from_estimator({"PCA": pca, "MLP AE": ae}, X,
                                                X_noisy=X_noisy, n_images=5)
    assert disp.row_labels_ == ["original", "corrupted", "PCA", "MLP AE"]
    assert disp.images_.shape == (4, 5)
    pca_rec = pca.inverse_transform(pca.transform(X_noisy[:5]))
    ae_rec = ae.inverse_transform(ae.transform(X_noisy[:5]))
    for j in range(5):
        np.testing.assert_allclose(tile(disp.images_[1, j]), X_noisy[j].reshape(8, 8))
        np.testing.assert_allclose(tile(disp.images_[2, j]), pca_rec[j].reshape(8, 8))
        np.testing.assert_allclose(tile(disp.images_[3, j]), ae_rec[j].reshape(8, 8),
                                   rtol=1e-6)
    render(disp.figure_)


def test_reconstruction_corrupt_uses_the_estimators_noise(dae, data):
    X = data[0]
    disp = ReconstructionDisplay.from_estimator(dae, X, n_images=4, corrupt=True,
                                                random_state=3)
    noisy = dae.corrupt(X[:4], random_state=3)
    assert not np.allclose(noisy, X[:4])
    rec = dae.inverse_transform(dae.transform(noisy))
    for j in range(4):
        np.testing.assert_array_equal(tile(disp.images_[1, j]), noisy[j].reshape(8, 8))
        np.testing.assert_allclose(tile(disp.images_[2, j]), rec[j].reshape(8, 8), rtol=1e-6)
    again = ReconstructionDisplay.from_estimator(dae, X, n_images=4, corrupt=True,
                                                 random_state=3)
    np.testing.assert_array_equal(again.corrupted, disp.corrupted)


def test_reconstruction_pipeline_in_original_units(digits):
    X = digits[0][:N_FIT]  # raw pixel values 0..16
    pipe = make_pipeline(MinMaxScaler(), PCA(n_components=10)).fit(X)
    disp = ReconstructionDisplay.from_estimator(pipe, X, n_images=3)
    assert disp.row_labels_ == ["original", "PCA"]
    np.testing.assert_allclose(tile(disp.images_[1, 0]),
                               pipe.inverse_transform(pipe.transform(X[:1]))[0].reshape(8, 8))
    assert disp.images_[0, 0].get_clim()[1] > 1  # drawn in pixel units


def test_reconstruction_png_shows_rows_where_they_belong():
    originals = np.zeros((3, 16))  # black
    recs = np.ones((3, 16))  # white
    disp = ReconstructionDisplay.from_arrays(originals, {"white": recs}, vmin=0, vmax=1)
    img = render(disp.figure_)
    for j in range(3):
        assert region_mean(disp.figure_, img, disp.axes_[0, j]) < 0.05
        assert region_mean(disp.figure_, img, disp.axes_[1, j]) > 0.95


def test_reconstruction_from_arrays_image_arrays_and_rgb():
    rng = np.random.RandomState(0)
    imgs = rng.rand(4, 5, 6)  # (n, H, W): the shape comes from the array
    disp = ReconstructionDisplay.from_arrays(imgs, imgs[::-1])
    np.testing.assert_allclose(tile(disp.images_[1, 0]), imgs[3])
    rgb = rng.rand(2, 3 * 4 * 5)
    disp = ReconstructionDisplay.from_arrays(rgb, rgb, image_shape=(3, 4, 5), vmin=0, vmax=1)
    arr = tile(disp.images_[0, 1])
    assert arr.shape == (4, 5, 3)
    np.testing.assert_allclose(arr, np.moveaxis(rgb[1].reshape(3, 4, 5), 0, -1))
    render(disp.figure_)


def test_reconstruction_draws_into_given_axes(ae, data):
    fig, (left, right) = plt.subplots(1, 2)
    disp = ReconstructionDisplay.from_estimator(ae, data[0], n_images=3, ax=right)
    assert disp.figure_ is fig
    assert left in fig.axes and right not in fig.axes
    assert len(fig.axes) == 1 + 6
    axes = plt.figure().subplots(2, 3)
    disp = ReconstructionDisplay.from_estimator(ae, data[0], n_images=3, ax=axes)
    assert disp.axes_[1, 2] is axes[1, 2]
    with pytest.raises(ValueError, match="exactly 6 axes"):
        ReconstructionDisplay.from_estimator(ae, data[0], n_images=3, ax=axes[0])


def test_reconstruction_errors(ae, dae, pca, data):
    X = data[0]
    with pytest.raises(ValueError, match="holds 81 values per image, but the rows have 64"):
        ReconstructionDisplay.from_estimator(ae, X, image_shape=(9, 9))
    with pytest.raises(ValueError, match="not a perfect square"):
        ReconstructionDisplay.from_arrays(X[:2, :60], X[:2, :60])
    with pytest.raises(ValueError, match=r"\(height, width\)"):
        ReconstructionDisplay.from_arrays(X[:2], X[:2], image_shape=(8, "8"))
    with pytest.raises(NotFittedError):
        ReconstructionDisplay.from_estimator(Autoencoder(), X)
    with pytest.raises(TypeError, match="KMeans has no inverse_transform"):
        ReconstructionDisplay.from_estimator(KMeans(2, n_init=1).fit(X), X)
    with pytest.raises(TypeError, match="Autoencoder has none. Pass X_noisy"):
        ReconstructionDisplay.from_estimator(ae, X, corrupt=True)
    with pytest.raises(ValueError, match="single estimator"):
        ReconstructionDisplay.from_estimator({"a": dae, "b": pca}, X, corrupt=True)
    with pytest.raises(ValueError, match="either corrupt=True or X_noisy"):
        ReconstructionDisplay.from_estimator(dae, X, corrupt=True, X_noisy=X)
    with pytest.raises(ValueError, match="X_noisy has 5 rows but X has"):
        ReconstructionDisplay.from_estimator(dae, X, X_noisy=X[:5])
    with pytest.raises(ValueError, match="'bad' row has shape"):
        ReconstructionDisplay.from_arrays(X[:3], {"bad": X[:2]})
    with pytest.raises(ValueError, match="n_images must be an integer >= 1"):
        ReconstructionDisplay.from_estimator(ae, X, n_images=0)


# ---------------------------------------------------------------------------- filters
def test_filters_dense_first_layer(sae):
    disp = FilterDisplay.from_estimator(sae, n_filters=10)
    W = sae.net_.module_.encoder[0][0].weight.detach().numpy()
    assert W.shape == (16, 64)
    assert len(disp.images_) == 10 and disp.axes_.shape == (3, 4)  # ceil(sqrt(10)) cols
    assert sum(a.get_visible() for a in disp.axes_.flat) == 10
    for i, im in enumerate(disp.images_):
        np.testing.assert_allclose(tile(im), W[i].reshape(8, 8), rtol=1e-6)
        m = np.abs(W[i]).max()  # each tile scaled to its own largest |weight|
        np.testing.assert_allclose(im.get_clim(), (-m, m), rtol=1e-6)
    disp = FilterDisplay.from_estimator(sae, n_filters=None, normalize="all")
    assert len(disp.images_) == 16
    m = np.abs(W).max()
    assert all(np.allclose(im.get_clim(), (-m, m)) for im in disp.images_)
    render(disp.figure_)


def test_filters_of_pca_vae_and_stack(pca, vae, data):
    disp = FilterDisplay.from_estimator(pca)
    np.testing.assert_allclose(tile(disp.images_[2]), pca.components_[2].reshape(8, 8))
    # the VAE's first layer is its first hidden layer
    disp = FilterDisplay.from_estimator(vae, n_filters=5)
    W = vae.net_.module_.encoder[0][0].weight.detach().numpy()
    np.testing.assert_allclose(tile(disp.images_[4]), W[4].reshape(8, 8), rtol=1e-6)
    # without hidden layers, the posterior mean head reads the pixels
    flat_vae = VariationalAutoencoder(n_components=3, hidden_layer_sizes=(), max_iter=1,
                                      random_state=0).fit(data[0][:50])
    disp = FilterDisplay.from_estimator(flat_vae)
    W = flat_vae.net_.module_.mu_head.weight.detach().numpy()
    assert len(disp.images_) == 3
    np.testing.assert_allclose(tile(disp.images_[0]), W[0].reshape(8, 8), rtol=1e-6)
    stack = StackedAutoencoder(4, hidden_layer_sizes=(12,), max_iter=1, random_state=0,
                               layer_estimator=Autoencoder(max_iter=1)).fit(data[0][:50])
    disp = FilterDisplay.from_estimator(stack)
    W = stack.net_.module_.encoder[0][0].weight.detach().numpy()
    assert W.shape == (12, 64) and len(disp.images_) == 12
    np.testing.assert_allclose(tile(disp.images_[11]), W[11].reshape(8, 8), rtol=1e-6)


class _ConvNet(BaseEstimator):
    """A fitted-looking estimator whose network starts with a 3-channel convolution."""

    def __init__(self, image_shape=(3, 6, 6)):
        self.image_shape = image_shape

    def fit(self):
        torch.manual_seed(0)
        module = torch.nn.Module()
        module.encoder = torch.nn.ModuleList(
            [torch.nn.Sequential(torch.nn.Conv2d(3, 5, 3), torch.nn.ReLU())])
        module.decoder = torch.nn.ModuleList([torch.nn.Linear(4, 108)])
        self.net_ = type("Net", (), {"module_": module})()
        self.image_shape_ = self.image_shape
        return self


def test_filters_of_a_convolution_are_rgb_kernels():
    est = _ConvNet().fit()
    disp = FilterDisplay.from_estimator(est)
    W = est.net_.module_.encoder[0][0].weight.detach().double().numpy()  # (5, 3, 3, 3)
    assert len(disp.images_) == 5
    arr = tile(disp.images_[1])
    assert arr.shape == (3, 3, 3)  # k x k x RGB
    m = np.abs(W[1]).max()
    np.testing.assert_allclose(arr, (np.moveaxis(W[1], 0, -1) / m + 1) / 2, rtol=1e-6)
    render(disp.figure_)


def test_conv_estimators_images_take_their_image_shape(data):
    ConvAutoencoder = getattr(skae, "ConvAutoencoder", None)
    ConvVAE = getattr(skae, "ConvVariationalAutoencoder", None)
    if ConvAutoencoder is None or ConvVAE is None:
        pytest.skip("skae's convolutional estimators are not available")
    # 8 x 6 crops: 48 features, not a square, so only image_shape_ tells the shape
    X = data[0][:60].reshape(-1, 8, 8)[:, :, 1:7].reshape(60, -1)
    est = ConvAutoencoder(n_components=4, image_shape=(8, 6), filters=(6,), kernel_size=3,
                          strides=(2,), max_iter=1, random_state=0).fit(X)
    disp = FilterDisplay.from_estimator(est)
    conv = next(m for m in est.net_.module_.modules() if isinstance(m, torch.nn.Conv2d))
    W = conv.weight.detach().numpy()
    assert W.shape == (6, 1, 3, 3) and len(disp.images_) == 6
    np.testing.assert_allclose(tile(disp.images_[5]), W[5, 0], rtol=1e-6)
    rec = ReconstructionDisplay.from_estimator(est, X, n_images=2)
    np.testing.assert_allclose(tile(rec.images_[0, 1]), X[1].reshape(8, 6))
    vae = ConvVAE(n_components=2, image_shape=(8, 6), filters=(4,), kernel_size=3,
                  strides=(2,), max_iter=1, random_state=0).fit(X)
    samples = SampleDisplay.from_estimator(vae, n_samples=4, random_state=0)
    np.testing.assert_allclose(tile(samples.images_[3]),
                               vae.sample(4, random_state=0)[3].reshape(8, 6))
    manifold = LatentManifoldDisplay.from_estimator(vae, n_grid=3)
    assert tile(manifold.image_).shape == (3 * 8, 3 * 6)


def test_filters_errors(data):
    with pytest.raises(NotFittedError):
        FilterDisplay.from_estimator(SparseAutoencoder())
    with pytest.raises(TypeError, match="KMeans has neither"):
        FilterDisplay.from_estimator(KMeans(2, n_init=1).fit(data[0]))
    pca = PCA(3).fit(data[0][:, :10])
    with pytest.raises(ValueError, match="10 features"):
        FilterDisplay.from_estimator(pca)
    disp = FilterDisplay.from_estimator(pca, image_shape=(2, 5))
    assert tile(disp.images_[0]).shape == (2, 5)
    with pytest.raises(ValueError, match="normalize must be"):
        FilterDisplay(np.ones((2, 4))).plot(normalize="max")


# ------------------------------------------------------------------------ latent space
def test_latent_space_pca_projection_coloured_by_class(ae, data):
    X, y = data
    disp = LatentSpaceDisplay.from_estimator(ae, X, y)
    codes = ae.transform(X)
    emb = PCA(2, svd_solver="full").fit_transform(codes)
    np.testing.assert_array_equal(disp.classes_, np.arange(10))
    assert len(disp.scatters_) == 10
    colours = set()
    for c, sc in zip(disp.classes_, disp.scatters_, strict=True):
        np.testing.assert_allclose(sc.get_offsets(), emb[y == c], rtol=1e-6, atol=1e-9)
        colours.add(tuple(np.round(sc.get_facecolor()[0], 4)))
    assert len(colours) == 10  # one colour per class
    assert [t.get_text() for t in disp.legend_.get_texts()] == [str(c) for c in range(10)]
    assert disp.ax_.get_xlabel().startswith("PC 1 (")
    render(disp.figure_)


def test_latent_space_first_dims_raw_2d_and_continuous(ae, vae, data):
    X, y = data
    disp = LatentSpaceDisplay.from_estimator(ae, X, method="first")
    assert len(disp.scatters_) == 1 and disp.legend_ is None
    np.testing.assert_allclose(disp.scatters_[0].get_offsets(), ae.transform(X)[:, :2],
                               rtol=1e-6)
    # 2-D codes are drawn as they are, coloured by a continuous value with a colorbar
    value = X.mean(axis=1)
    disp = LatentSpaceDisplay.from_estimator(vae, X, value)
    np.testing.assert_allclose(disp.scatters_[0].get_offsets(), vae.transform(X), rtol=1e-6)
    np.testing.assert_allclose(disp.scatters_[0].get_array(), value)
    assert disp.colorbar_ is not None and disp.classes_ is None
    assert disp.ax_.get_xlabel() == "latent dim 0"
    render(disp.figure_)


def test_latent_space_tsne(ae, data):
    X, y = data
    disp = LatentSpaceDisplay.from_estimator(ae, X[:60], y[:60], method="tsne",
                                             random_state=0,
                                             projection_kwargs={"max_iter": 250})
    assert sum(len(sc.get_offsets()) for sc in disp.scatters_) == 60
    assert disp.ax_.get_xlabel() == "t-SNE 1"


def test_latent_space_errors(ae, data):
    X, y = data
    one_d = PCA(1).fit(X)
    with pytest.raises(ValueError, match="1-dimensional codes"):
        LatentSpaceDisplay.from_estimator(one_d, X)
    with pytest.raises(ValueError, match="method must be"):
        LatentSpaceDisplay.from_estimator(ae, X, method="umap")
    with pytest.raises(ValueError, match="one value per point"):
        LatentSpaceDisplay.from_estimator(ae, X, y[:10])
    with pytest.raises(NotFittedError):
        LatentSpaceDisplay.from_estimator(Autoencoder(), X)


# ---------------------------------------------------------------------------- samples
def test_samples_of_a_vae(vae):
    disp = SampleDisplay.from_estimator(vae, n_samples=12, random_state=0)
    expected = vae.sample(12, random_state=0)
    assert len(disp.images_) == 12 and disp.axes_.shape == (3, 4)
    tiles = np.array([tile(im) for im in disp.images_])
    np.testing.assert_allclose(tiles, expected.reshape(12, 8, 8))
    assert np.ptp(tiles.reshape(12, -1), axis=0).max() > 0  # the samples differ
    again = SampleDisplay.from_estimator(vae, n_samples=12, random_state=0)
    np.testing.assert_array_equal(again.samples, disp.samples)
    other = SampleDisplay.from_estimator(vae, n_samples=12, random_state=1)
    assert not np.allclose(other.samples, disp.samples)
    render(disp.figure_)


def test_samples_of_sklearn_mixture(data):
    gm = GaussianMixture(2, covariance_type="diag", random_state=0).fit(data[0])
    disp = SampleDisplay.from_estimator(gm, n_samples=4)
    assert len(disp.images_) == 4
    with pytest.raises(ValueError, match="takes no random_state"):
        SampleDisplay.from_estimator(gm, random_state=0)


def test_samples_errors(ae):
    with pytest.raises(TypeError, match="Autoencoder has none"):
        SampleDisplay.from_estimator(ae)
    with pytest.raises(NotFittedError):
        SampleDisplay.from_estimator(VariationalAutoencoder())


# -------------------------------------------------------------------- latent manifold
def test_latent_manifold_of_a_2d_vae(vae):
    n = 6
    disp = LatentManifoldDisplay.from_estimator(vae, n_grid=n)
    grid = norm.ppf(np.linspace(0.05, 0.95, n))
    np.testing.assert_allclose(disp.grid_x, grid)
    np.testing.assert_allclose(disp.grid_y, grid)
    mosaic = tile(disp.image_)
    assert mosaic.shape == (n * 8, n * 8)
    for i, j in [(0, 0), (2, 5), (5, 1)]:
        expected = vae.inverse_transform(np.array([[grid[j], grid[i]]]))[0].reshape(8, 8)
        np.testing.assert_allclose(disp.decoded[i, j].reshape(8, 8), expected, rtol=1e-6)
        r = n - 1 - i  # the largest grid_y is the top row
        np.testing.assert_allclose(mosaic[8 * r : 8 * r + 8, 8 * j : 8 * j + 8], expected,
                                   rtol=1e-6)
    labels = [t.get_text() for t in disp.ax_.get_xticklabels()]
    assert labels[0] == f"{grid[0]:.2g}" and labels[-1] == f"{grid[-1]:.2g}"
    render(disp.figure_)


def test_latent_manifold_orientation_in_png():
    # tile brightness grows with grid_y: the top of the picture must be bright
    n, shape = 4, (1, 3, 3)
    decoded = np.repeat(np.arange(n, dtype=float)[:, None, None], n, axis=1)
    decoded = np.repeat(decoded, 9, axis=2) / (n - 1)
    disp = LatentManifoldDisplay(decoded, np.arange(n), np.arange(n), image_shape=shape).plot()
    img = render(disp.figure_)
    disp.figure_.canvas.draw()
    bbox = disp.ax_.get_window_extent()
    scale = img.shape[0] / disp.figure_.bbox.height
    top = int(img.shape[0] - bbox.y1 * scale) + 3
    bottom = int(img.shape[0] - bbox.y0 * scale) - 3
    x = int((bbox.x0 + bbox.x1) / 2 * scale)
    assert img[top, x, :3].mean() > 0.9 and img[bottom, x, :3].mean() < 0.1


def test_latent_manifold_from_codes_of_any_model(ae, data):
    X = data[0]
    codes = ae.transform(X)
    disp = LatentManifoldDisplay.from_estimator(ae, X, n_grid=4, dims=(2, 5))
    levels = np.linspace(0.05, 0.95, 4)
    np.testing.assert_allclose(disp.grid_x, np.quantile(codes[:, 2], levels))
    np.testing.assert_allclose(disp.grid_y, np.quantile(codes[:, 5], levels))
    z = np.median(codes, axis=0)
    z[2], z[5] = disp.grid_x[3], disp.grid_y[1]
    np.testing.assert_allclose(disp.decoded[1, 3], ae.inverse_transform(z[None])[0],
                               rtol=1e-5)
    assert disp.ax_.get_xlabel() == "latent dim 2" and disp.ax_.get_ylabel() == "latent dim 5"


def test_latent_manifold_errors(ae, vae, data):
    X = data[0]
    with pytest.raises(ValueError, match="no latent prior"):
        LatentManifoldDisplay.from_estimator(ae)
    with pytest.raises(ValueError, match=r"two different latent dimensions in \[0, 2\)"):
        LatentManifoldDisplay.from_estimator(vae, dims=(0, 2))
    with pytest.raises(ValueError, match="dims must be two different"):
        LatentManifoldDisplay.from_estimator(ae, X, dims=(1, 1))
    with pytest.raises(ValueError, match="0 < low < high < 1"):
        LatentManifoldDisplay.from_estimator(vae, quantile_range=(0, 1))
    with pytest.raises(TypeError, match="KMeans has no inverse_transform"):
        LatentManifoldDisplay.from_estimator(KMeans(2, n_init=1).fit(X), X)
    with pytest.raises(NotFittedError):
        LatentManifoldDisplay.from_estimator(VariationalAutoencoder())
    with pytest.raises(ValueError, match="holds 49 values per image"):
        LatentManifoldDisplay.from_estimator(vae, image_shape=(7, 7))


# -------------------------------------------------------------------- training curves
def _axes_of(disp, stage, keys):
    return {disp.lines_[stage][k].axes for k in keys}


def test_training_curves_draw_each_penalty_term_separately(sae, data):
    disp = TrainingCurveDisplay.from_estimator(sae)
    stage = "SparseAutoencoder"
    assert disp.terms_[stage] == ["loss", "reconstruction", "sparsity"]
    for key in ("train_loss", "train_reconstruction", "train_sparsity"):
        np.testing.assert_allclose(disp.lines_[stage][key].get_ydata(),
                                   sae.history_[:, key])
        np.testing.assert_array_equal(disp.lines_[stage][key].get_xdata(), [1, 2, 3])
    assert len(_axes_of(disp, stage, ["train_loss", "train_reconstruction",
                                      "train_sparsity"])) == 3
    assert [a.get_title() for a in disp.axes_.flat] == ["loss", "reconstruction", "sparsity"]
    assert not any(k.endswith("_best") or "dur" in k for k in disp.lines_[stage])
    render(disp.figure_)


def test_training_curves_contraction_and_validation(ae, data):
    cae = ContractiveAutoencoder(n_components=4, max_iter=2, random_state=0).fit(data[0])
    disp = TrainingCurveDisplay.from_estimator(cae)
    np.testing.assert_allclose(
        disp.lines_["ContractiveAutoencoder"]["train_contraction"].get_ydata(),
        cae.history_[:, "train_contraction"])
    disp = TrainingCurveDisplay.from_estimator(ae)
    lines = disp.lines_["Autoencoder"]
    assert set(lines) == {"train_loss", "valid_loss"}
    assert lines["train_loss"].axes is lines["valid_loss"].axes  # same term, same axes
    assert lines["valid_loss"].get_linestyle() == "--"
    np.testing.assert_allclose(lines["valid_loss"].get_ydata(), ae.validation_loss_curve_)


def test_training_curves_vae_terms_and_log_scale(vae):
    stage = "VariationalAutoencoder"
    disp = TrainingCurveDisplay.from_estimator(vae, log_scale=True)
    assert disp.terms_[stage][:3] == ["loss", "reconstruction", "kl"]
    kl = disp.lines_[stage]["train_kl"]
    np.testing.assert_allclose(kl.get_ydata(), vae.history_[:, "train_kl"])
    assert kl.axes is not disp.lines_[stage]["train_reconstruction"].axes
    assert disp.lines_[stage]["train_reconstruction"].axes.get_yscale() == "log"
    # the warmed-up KL starts at 0 and the ELBO is negative: no log axis for them
    assert kl.get_ydata()[0] == 0 and kl.axes.get_yscale() == "symlog"
    assert disp.lines_[stage]["train_elbo"].axes.get_yscale() == "symlog"
    disp = TrainingCurveDisplay.from_estimator(vae, terms=["kl", "kl_weight"])
    assert disp.terms_[stage] == ["kl", "kl_weight"]
    np.testing.assert_allclose(disp.lines_[stage]["kl_weight"].get_ydata(), [0.0, 0.5, 1.0])
    render(disp.figure_)


def test_training_curves_of_a_stack_one_row_per_stage(data):
    stack = StackedAutoencoder(
        4, hidden_layer_sizes=(12,), max_iter=2, random_state=0,
        layer_estimator=SparseAutoencoder(max_iter=2)).fit(data[0][:100])
    disp = TrainingCurveDisplay.from_estimator(stack)
    assert list(disp.terms_) == ["layer 1", "layer 2", "fine-tuning"]
    assert disp.terms_["layer 1"] == ["loss", "reconstruction", "sparsity"]
    assert disp.terms_["fine-tuning"] == ["loss"]
    assert disp.axes_.shape == (3, 3)
    assert sum(a.get_visible() for a in disp.axes_.flat) == 7
    np.testing.assert_allclose(disp.lines_["layer 2"]["train_sparsity"].get_ydata(),
                               stack.histories_[1][:, "train_sparsity"])
    np.testing.assert_allclose(disp.lines_["fine-tuning"]["train_loss"].get_ydata(),
                               stack.loss_curve_)
    assert disp.axes_[1, 2].get_title() == "layer 2: sparsity"
    render(disp.figure_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_training_curves_other_sources(data):
    hist = [{"epoch": 1, "train_loss": 2.0, "dur": 0.1, "train_loss_best": True},
            {"epoch": 2, "train_loss": 1.0, "dur": 0.1, "train_loss_best": True,
             "valid_loss": 1.5}]
    disp = TrainingCurveDisplay.from_history(hist)
    np.testing.assert_array_equal(disp.lines_["training"]["valid_loss"].get_xdata(), [2])
    assert set(disp.lines_["training"]) == {"train_loss", "valid_loss"}
    X = data[0][:60]
    mlp = MLPRegressor(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    pipe = make_pipeline(MinMaxScaler(), mlp).fit(X, X[:, 0])
    disp = TrainingCurveDisplay.from_estimator(pipe)
    np.testing.assert_allclose(disp.lines_["MLPRegressor"]["train_loss"].get_ydata(),
                               mlp.loss_curve_)


def test_training_curves_errors(sae, data):
    with pytest.raises(TypeError, match="PCA has none"):
        TrainingCurveDisplay.from_estimator(PCA(2).fit(data[0]))
    with pytest.raises(NotFittedError):
        TrainingCurveDisplay.from_estimator(SparseAutoencoder())
    with pytest.raises(ValueError, match=r"records \['loss', 'reconstruction', 'sparsity'\]"):
        TrainingCurveDisplay.from_estimator(sae, terms=["kl"])
    with pytest.raises(ValueError, match="empty"):
        TrainingCurveDisplay.from_history([])
