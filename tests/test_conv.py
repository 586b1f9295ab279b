"""ConvAutoencoder / ConvVariationalAutoencoder and the conv building blocks."""

import copy
import inspect
import math
import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils._param_validation import InvalidParameterError
from torch import nn

from skae import ConvAutoencoder, ConvVariationalAutoencoder, DenoisingAutoencoder
from skae.corruption import GaussianNoise, MaskingNoise
from skae.engine import seeded
from skae.nn import (
    BatchNorm2d,
    ConvAutoencoderModule,
    ConvVAEModule,
    conv_output_size,
    conv_stacks,
    use_channels_last,
)

# Tiny networks: the protocol tests fit many times.
FAST = dict(n_components=3, filters=(2, 4), strides=2, max_iter=2, batch_size=16, random_state=0)
# The learned-property comparisons on digits (docs/conv.rst quotes them).
LEARN = dict(n_components=16, filters=(8, 16), strides=(2, 1), max_iter=30, batch_size=64,
             lr=3e-3, random_state=0)

SHAPES = [
    (1, 1, 1),  # smaller than any stride wants
    (1, 2, 3),
    (1, 3, 3),
    (1, 8, 8),
    (3, 5, 7),
    (2, 17, 4),
    (1, 1, 30),  # a 1-D signal
    (1, 28, 28),
    (1, 112, 92),  # the AT&T faces
]
LAYERS = [  # (kernel_sizes, strides)
    ((3, 3, 3), (2, 1, 1)),
    ((3, 3, 3), (2, 2, 2)),
    ((1, 2, 5), (3, 2, 1)),  # even kernel, stride 3
    ((4, 4, 4), (2, 2, 2)),
    ((5, 3, 7), (1, 3, 2)),
]


@pytest.fixture(scope="module")
def rng_data():
    return np.random.RandomState(0).rand(40, 36)  # 6 x 6 images in [0, 1]


# ------------------------------------------------------------------------- pure torch
@pytest.mark.parametrize("size", [1, 2, 3, 4, 7, 8, 28, 92, 112])
@pytest.mark.parametrize("kernel", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_conv_output_size_matches_torch(size, kernel, stride):
    conv = nn.Conv2d(1, 1, kernel, stride=stride, padding=kernel // 2)
    out = conv(torch.zeros(1, 1, size, size))
    assert out.shape[-1] == conv_output_size(size, kernel, stride) >= 1
    if kernel % 2:
        assert conv_output_size(size, kernel, stride) == -(-size // stride)  # "same"


@pytest.mark.parametrize("layers", LAYERS, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("batchnorm", [False, True])
def test_module_reconstructs_exact_shape(shape, layers, batchnorm):
    kernels, strides = layers
    module = ConvAutoencoderModule(shape, 5, (2, 3, 4), kernels, strides, batchnorm=batchnorm)
    x = torch.rand(2, int(np.prod(shape)))
    out = module(x)
    assert out.reconstruction.shape == out.logits.shape == x.shape
    assert out.code.shape == (2, 5)
    assert module.decode(module.encode(x)).shape == x.shape
    # exact mirroring through output_padding, never a crop
    _, deconvs, _, sizes = conv_stacks(shape, (2, 3, 4), kernels, strides)
    pads = [d[0].output_padding for d in deconvs]
    assert all(0 <= p < s for pad, s in zip(pads, strides[::-1], strict=True) for p in pad)
    for i, block in enumerate(module.encoder[:3]):
        assert out.hidden[i].shape[-2:] == sizes[i + 1]
        assert block[0].weight.shape[0] == (2, 3, 4)[i]


def test_module_rows_are_images_flattened_channel_first():
    # A hand-set first layer that copies channel 1 shows how rows are folded.
    module = ConvAutoencoderModule((2, 3, 4), 2, (1,), (1,), (1,), activation="identity")
    conv = module.encoder[0][0]
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 1] = 1.0
        conv.bias.zero_()
    images = torch.arange(24.0).reshape(1, 2, 3, 4)
    hidden = module(images.reshape(1, -1)).hidden[0]
    torch.testing.assert_close(hidden[0, 0], images[0, 1])


def test_batchnorm_accepts_single_value_per_channel():
    bn = BatchNorm2d(3)
    with torch.no_grad():
        bn.running_mean.fill_(1.0)
        bn.running_var.fill_(4.0)
    x = torch.full((1, 3, 1, 1), 3.0)
    bn.train()
    torch.testing.assert_close(bn(x), torch.ones(1, 3, 1, 1), atol=1e-3, rtol=0)
    assert bn.running_mean.eq(1.0).all()  # not updated from a single value
    with pytest.raises(ValueError, match="more than 1 value"):
        nn.BatchNorm2d(3).train()(x)  # what torch itself does
    y = bn(torch.rand(4, 3, 1, 1))  # real batches: batch statistics
    assert y.mean().abs() < 1e-5


def test_vae_module_shapes():
    module = ConvVAEModule((1, 7, 5), 3, (4, 8), (3, 3), (2, 2), hidden_layer_sizes=(6,))
    x = torch.rand(4, 35)
    mu, logvar, hidden = module.posterior(x)
    assert mu.shape == logvar.shape == (4, 3)
    out = module(x)
    assert out.reconstruction.shape == x.shape and module.decode(mu).shape == x.shape
    assert module.log_px(x, out.logits).shape == (4,)


# ------------------------------------------------------------------------- estimator
def _fit_quiet(est, X):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no image-shape warning when the shape is known
        return est.fit(X)


@pytest.mark.parametrize(
    ("shape", "image_shape"),
    [
        ((1, 1, 1), None),
        ((1, 6, 6), None),
        ((1, 6, 6), (6, 6)),
        ((3, 5, 7), (3, 5, 7)),
        ((3, 5, 7), (3, -1, 7)),
        ((2, 9, 4), (2, 9, -1)),
        ((1, 1, 13), (1, -1)),
        ((1, 13, 1), (-1, 1)),
        ((1, 10, 23), (10, 23)),
    ],
    ids=str,
)
def test_estimator_round_trip_shapes(shape, image_shape):
    X = np.random.RandomState(0).rand(20, int(np.prod(shape)))
    est = _fit_quiet(ConvAutoencoder(**{**FAST, "image_shape": image_shape}), X)
    assert est.image_shape_ == shape
    Z = est.transform(X)
    assert Z.shape == (20, 3) and np.all((Z > 0) & (Z < 1))  # sigmoid codes
    assert est.inverse_transform(Z).shape == X.shape
    assert est.score_samples(X).shape == (20,)


def test_default_architecture_and_parameters():
    params = inspect.signature(ConvAutoencoder.__init__).parameters
    est = ConvAutoencoder()
    assert est.filters == "auto" and est.kernel_size == 3
    # "auto": no strided layer on a map smaller than 4 pixels along its longer side
    rng = np.random.RandomState(0)
    small = ConvAutoencoder(n_components=2, max_iter=1).fit(rng.rand(20, 64))
    assert [b[0].out_channels for b in small.net_.module_.encoder[:-1]] == [16, 32]
    large = ConvAutoencoder(n_components=2, max_iter=1).fit(rng.rand(20, 784))
    assert [b[0].out_channels for b in large.net_.module_.encoder[:-1]] == [16, 32, 64, 128]
    assert est.code_activation == "sigmoid" and est.noise is None and est.batchnorm
    assert params["image_shape"].default is None
    # the noise vocabulary of DenoisingAutoencoder
    dae = inspect.signature(DenoisingAutoencoder.__init__).parameters
    assert {"noise", "noise_level", "clip_noise"} <= set(params) & set(dae)
    X = np.random.RandomState(0).rand(8, 28 * 28).astype(np.float32)
    est = ConvAutoencoder(max_iter=1, random_state=0).fit(X)
    module = est.net_.module_
    convs = [m for m in module.encoder.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [16, 32, 64, 128]
    assert all(c.kernel_size == (3, 3) for c in convs)
    assert all(c.stride == (2, 2) for c in convs)
    assert est.output_activation_ == "sigmoid"
    assert isinstance(module.encoder[-1][-1], nn.Sigmoid)  # the code
    assert isinstance(module.output_activation, nn.Sigmoid)
    assert est.transform(X).shape == (8, 32)


def test_first_layer_filters_path(rng_data):
    est = ConvAutoencoder(**{**FAST, "kernel_size": (5, 3)}).fit(rng_data)
    weight = est.net_.module_.encoder[0][0].weight
    assert isinstance(est.net_.module_.encoder[0][0], nn.Conv2d)
    assert weight.shape == (2, 1, 5, 5)  # (filters[0], C, k, k)


def test_image_shape_none_non_square_warns_and_uses_a_row():
    X = np.random.RandomState(0).rand(20, 10)
    with pytest.warns(UserWarning, match=r"not a perfect square.*\(1, 1, 10\).*image_shape"):
        est = ConvAutoencoder(**FAST).fit(X)
    assert est.image_shape_ == (1, 1, 10)
    assert est.inverse_transform(est.transform(X)).shape == X.shape


@pytest.mark.parametrize(
    ("image_shape", "match"),
    [
        ((8, 8), r"image_shape=\(8, 8\) describes images of C\*H\*W = 1\*8\*8 = 64 values, "
                 r"but X has 36 features"),
        ((2, 3, 3), "= 18 values, but X has 36"),
        ((5, -1), "divisible by 5, but X has 36 features"),
        ((0, 36), "positive integers"),
        ((36,), r"\(H, W\) or \(C, H, W\)"),
        ((1, 1, 6, 6), r"\(H, W\) or \(C, H, W\)"),
        ((-1, -1), "one of them may be -1"),
        ((6.0, 6), "positive integers"),
        ((True, 36), "positive integers"),
        ("6x6", "image_shape"),
    ],
    ids=str,
)
def test_bad_image_shape(rng_data, image_shape, match):
    est = ConvAutoencoder(**{**FAST, "image_shape": image_shape})
    with pytest.raises(ValueError, match=match):
        est.fit(rng_data)
    assert not hasattr(est, "net_") and not hasattr(est, "image_shape_")


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        (dict(filters=()), ValueError, "filters must be a sequence of positive integers"),
        (dict(filters=(4, 0)), ValueError, "filters must be"),
        (dict(filters=(4, 8), kernel_size=(3, 3, 3)), ValueError,
         "kernel_size must be a positive integer or a sequence of 2"),
        (dict(filters=(4, 8), strides=(2, 1, 1, 1)), ValueError,
         "strides must be a positive integer or a sequence of 2"),
        (dict(strides=(2, 0)), ValueError, "strides must be"),
        (dict(kernel_size=0), InvalidParameterError, "kernel_size"),
        (dict(filters=8), InvalidParameterError, "filters"),
        (dict(noise="dropout"), InvalidParameterError, "noise"),
        (dict(noise="masking", noise_level=1.5), ValueError, r"probability .* \[0, 1\]"),
        (dict(batchnorm="yes"), InvalidParameterError, "batchnorm"),
    ],
    ids=str,
)
def test_bad_architecture_parameters(rng_data, params, error, match):
    est = ConvAutoencoder(**{**FAST, **params})
    with pytest.raises(error, match=match):
        est.fit(rng_data)
    assert not hasattr(est, "net_")


def test_bad_input_after_fit(rng_data):
    est = ConvAutoencoder(**FAST)
    with pytest.raises(NotFittedError):
        est.transform(rng_data)
    est.fit(rng_data)
    with pytest.raises(ValueError, match="X has 35 features, but ConvAutoencoder is expecting 36"):
        est.transform(rng_data[:, :35])
    with pytest.raises(ValueError, match="n_components=3"):
        est.inverse_transform(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="NaN"):
        est.transform(np.full_like(rng_data, np.nan))
    with pytest.raises(ValueError, match="bce"):
        ConvAutoencoder(**FAST, loss="bce").fit(rng_data * 3)


def test_last_batch_of_one_with_1x1_feature_maps():
    # 17 rows in batches of 16 leave a batch of one sample of 1 x 1 feature maps.
    X = np.random.RandomState(0).rand(17, 4)
    est = ConvAutoencoder(**{**FAST, "image_shape": (2, 2), "max_iter": 3}).fit(X)
    assert est.net_.module_.feature_shape == (4, 1, 1)
    assert np.isfinite(est.loss_curve_).all() and est.n_iter_ == 3


def test_reproducible_and_global_rng_untouched(rng_data):
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()[1].copy()
    kw = {**FAST, "noise": "gaussian"}
    a = ConvAutoencoder(**kw).fit(rng_data).transform(rng_data)
    b = ConvAutoencoder(**kw).fit(rng_data).transform(rng_data)
    c = ConvAutoencoder(**{**kw, "random_state": 1}).fit(rng_data).transform(rng_data)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], np_state)


def test_pickle_clone_partial_fit(rng_data):
    est = ConvAutoencoder(**{**FAST, "noise": "masking"}).fit(rng_data)
    est2 = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(est2.transform(rng_data), est.transform(rng_data))
    np.testing.assert_array_equal(est2.score_samples(rng_data), est.score_samples(rng_data))
    assert est2.image_shape_ == est.image_shape_ and est2.net_.corruption == MaskingNoise(0.2)
    est2.partial_fit(rng_data)
    assert est2.n_iter_ == est.n_iter_ + 1
    assert clone(est).get_params() == est.get_params()
    assert not hasattr(clone(est), "image_shape_")


def _kernels(module):
    return [m.weight for m in module.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]


@pytest.mark.parametrize("make", [
    lambda: ConvAutoencoderModule((3, 9, 7), 4, (5, 6), (3, 3), (2, 2), batchnorm=True),
    lambda: ConvVAEModule((1, 8, 8), 3, (4, 8), (3, 3), (2, 1), hidden_layer_sizes=(5,)),
])
def test_channels_last_changes_layout_not_values(make):
    """Channels-last kernels compute what contiguous ones do, forward and backward."""
    with seeded(0):
        dense = make()
    last = use_channels_last(copy.deepcopy(dense))
    assert all(w.is_contiguous() for w in _kernels(dense))
    assert all(w.is_contiguous(memory_format=torch.channels_last) for w in _kernels(last))
    # (a kernel with one input channel has the same strides in both layouts)
    assert all(not w.is_contiguous() for w in _kernels(last) if w.shape[1] > 1)
    assert dense.state_dict().keys() == last.state_dict().keys()
    x = torch.rand(6, math.prod(dense.input_shape))
    dense.eval(), last.eval()  # the VAE samples in training mode
    outs = [m(x) for m in (dense, last)]
    torch.testing.assert_close(outs[1].reconstruction, outs[0].reconstruction)
    torch.testing.assert_close(outs[1].code, outs[0].code)
    for out in outs:
        out.reconstruction.square().sum().backward()
    for a, b in zip(_kernels(dense), _kernels(last), strict=True):
        torch.testing.assert_close(b.grad, a.grad, rtol=1e-4, atol=1e-5)
    # the layout survives pickling and a copy of the weights into a fresh module
    assert all(w.is_contiguous(memory_format=torch.channels_last)
               for w in _kernels(pickle.loads(pickle.dumps(last))))
    assert make().load_state_dict(last.state_dict())


@pytest.mark.parametrize("cls", [ConvAutoencoder, ConvVariationalAutoencoder])
def test_cpu_models_use_channels_last(cls, rng_data):
    """On the CPU the estimators train channels-last kernels (faster there), same results."""
    kw = {**FAST, "batchnorm": True}
    kw.pop("noise", None)
    est = cls(**kw).fit(rng_data)
    assert all(w.is_contiguous(memory_format=torch.channels_last)
               for w in _kernels(est.net_.module_))
    plain = cls(**kw)
    plain._channels_last = lambda: False  # torch's default layout, as before
    plain.fit(rng_data)
    assert all(w.is_contiguous() for w in _kernels(plain.net_.module_))
    # the same training up to float rounding
    np.testing.assert_allclose(est.loss_curve_, plain.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(est.transform(rng_data), plain.transform(rng_data), atol=1e-4)
    assert not cls(device="cuda")._channels_last()  # GPUs keep torch's default layout


def test_inference_batches_do_not_change_results(rng_data):
    est = ConvAutoencoder(**FAST).fit(rng_data)
    Z, R = est.transform(rng_data), est.score_samples(rng_data)
    width = est.net_.module_.activation_width
    assert est._inference_rows() == 4096  # small images: the usual batches
    est._inference_budget = 7 * width  # 7 rows per batch
    assert est._inference_rows() == 7
    np.testing.assert_allclose(est.transform(rng_data), Z, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(est.score_samples(rng_data), R, rtol=1e-5, atol=1e-7)
    order = np.random.RandomState(1).permutation(len(rng_data))  # a row's position neither
    np.testing.assert_allclose(est.transform(rng_data[order]), Z[order], rtol=1e-5, atol=1e-6)
    big = ConvAutoencoder(n_components=2, image_shape=(112, 92), max_iter=1,
                          random_state=0).fit(np.random.RandomState(0).rand(4, 112 * 92))
    assert big._inference_rows() < 4096  # wide feature maps: fewer rows per batch


def test_device_cpu(rng_data):
    est = ConvAutoencoder(**{**FAST, "device": "cpu"}).fit(rng_data)
    assert est.net_.device == "cpu"
    assert all(p.device.type == "cpu" for p in est.net_.module_.parameters())
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            ConvAutoencoder(**{**FAST, "device": "cuda"}).fit(rng_data)


def test_memmap_and_mixed_precision(rng_data, tmp_path):
    X = rng_data.astype(np.float32)
    mm = np.memmap(tmp_path / "x.dat", dtype=np.float32, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    lazy = np.memmap(tmp_path / "x.dat", dtype=np.float32, mode="r", shape=X.shape)
    a = ConvAutoencoder(**FAST).fit(X)
    b = ConvAutoencoder(**FAST).fit(lazy)  # read batch by batch, same fit
    assert b.image_shape_ == (1, 6, 6)
    np.testing.assert_array_equal(a.transform(X), b.transform(lazy))
    bf16 = ConvAutoencoder(**FAST, mixed_precision=True).fit(X)  # bfloat16 autocast on CPU
    assert np.isfinite(bf16.loss_curve_).all()
    np.testing.assert_allclose(bf16.transform(X), a.transform(X), atol=0.05)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu(digits01):
    X_train, X_test = digits01[:2]
    kw = {**FAST, "max_iter": 5, "filters": (4, 8)}
    gpu = ConvAutoencoder(**kw, device="cuda").fit(X_train)
    assert next(gpu.net_.module_.parameters()).is_cuda
    cpu = ConvAutoencoder(**kw).fit(X_train)
    np.testing.assert_allclose(gpu.transform(X_test), cpu.transform(X_test), atol=1e-2)


def test_corrupt(rng_data):
    plain = ConvAutoencoder(**FAST).fit(rng_data)
    np.testing.assert_array_equal(plain.corrupt(rng_data, random_state=0), rng_data)
    assert plain.net_.corruption is None and not hasattr(plain, "noise_range_")
    noisy = ConvAutoencoder(**{**FAST, "noise": "gaussian", "noise_level": 0.5}).fit(rng_data)
    assert noisy.net_.corruption == GaussianNoise(0.5, *noisy.noise_range_)
    Xn = noisy.corrupt(rng_data, random_state=0)
    assert Xn.min() >= noisy.noise_range_[0] - 1e-7 and Xn.max() <= noisy.noise_range_[1] + 1e-7
    assert np.mean(Xn != rng_data) > 0.5
    np.testing.assert_array_equal(Xn, noisy.corrupt(rng_data, random_state=0))


# ----------------------------------------------------------------- learned behaviour
def _mse(est, X_in, X_clean):
    return float(np.mean((est.inverse_transform(est.transform(X_in)) - X_clean) ** 2))


@pytest.fixture(scope="module")
def conv_pair(digits01):
    """A plain and a Gaussian-noise conv autoencoder fitted on [0, 1] digits."""
    X_train = digits01[0]
    plain = ConvAutoencoder(**LEARN).fit(X_train)
    noisy = ConvAutoencoder(**LEARN, noise="gaussian", noise_level=0.3).fit(X_train)
    return plain, noisy


def test_reconstructs_held_out_digits(digits01, conv_pair):
    X_train, X_test = digits01[:2]
    plain = conv_pair[0]
    baseline = float(np.mean((X_test - X_train.mean(0)) ** 2))  # the mean digit
    mse = _mse(plain, X_test, X_test)
    # measured: 0.011 vs 0.075
    assert mse < 0.25 * baseline
    assert plain.loss_curve_[-1] < 0.5 * plain.loss_curve_[0]
    np.testing.assert_allclose(-plain.score(X_test), mse, rtol=1e-4)


def test_denoising_beats_plain_on_noisy_digits(digits01, conv_pair):
    X_test = digits01[1]
    plain, noisy = conv_pair
    with seeded(0):  # a fixed noisy test set, independent of either model
        X_noisy = GaussianNoise(0.3, low=0.0, high=1.0)(torch.from_numpy(X_test)).numpy()
    assert noisy.net_.corruption == GaussianNoise(0.3, low=0.0, high=1.0)
    mse_noisy, mse_plain = _mse(noisy, X_noisy, X_test), _mse(plain, X_noisy, X_test)
    # measured: 0.023 vs 0.027 (the noisy digits themselves: 0.052); over seeds 0-3
    # the ratio is 0.80-0.87
    assert mse_noisy < 0.92 * mse_plain
    assert mse_noisy < 0.5 * np.mean((X_noisy - X_test) ** 2)


def test_pipeline_with_logistic_regression(digits):
    X_train, X_test, y_train, y_test = digits
    pipe = Pipeline(
        [
            ("scale", MinMaxScaler()),
            ("cae", ConvAutoencoder(**{**LEARN, "n_components": 32})),
            ("clf", LogisticRegression(max_iter=2000)),
        ]
    ).fit(X_train, y_train)
    # measured: 0.967 (0.958-0.967 over seeds 0-3)
    assert pipe.score(X_test, y_test) >= 0.93
    assert pipe.named_steps["cae"].image_shape_ == (1, 8, 8)


# --------------------------------------------------------------------------- the VAE
def test_conv_vae(digits01):
    X_train, X_test = digits01[:2]
    vae = ConvVariationalAutoencoder(n_components=4, filters=(4, 8), strides=(2, 1),
                                     max_iter=10, batch_size=64, random_state=0).fit(X_train)
    assert vae.likelihood_ == "bernoulli" and vae.image_shape_ == (1, 8, 8)
    assert vae.elbo_curve_[-1] > vae.elbo_curve_[0] + 5  # nats per digit
    scores = vae.score_samples(X_test)
    assert scores.shape == (len(X_test),) and np.all(np.isfinite(scores)) and np.all(scores < 0)
    np.testing.assert_array_equal(scores, vae.score_samples(X_test))
    assert vae.transform(X_test).shape == (len(X_test), 4)
    samples = vae.sample(5, random_state=0)
    assert samples.shape == (5, 64) and samples.min() >= 0 and samples.max() <= 1
    assert isinstance(vae.net_.module_.encoder[0][0], nn.Conv2d)
    vae2 = pickle.loads(pickle.dumps(vae))
    np.testing.assert_array_equal(vae2.score_samples(X_test), scores)
    # a wide feature map shrinks the chunks of score_samples
    wide = ConvVariationalAutoencoder(n_components=2, filters=(32,), strides=1, max_iter=1,
                                      random_state=0).fit(X_train[:20])
    assert wide.net_.module_.activation_width == 32 * 64
    rows = wide._inference_rows(per_row=16, budget=wide._score_budget)
    assert rows == (1 << 22) // (16 * 32 * 64)
    np.testing.assert_allclose(
        wide.score_samples(X_test[:5]), wide.score_samples(X_test)[:5], rtol=1e-5)


def test_conv_vae_parameters_extend_vae():
    from skae import VariationalAutoencoder

    vae = set(inspect.signature(VariationalAutoencoder.__init__).parameters)
    conv = set(inspect.signature(ConvVariationalAutoencoder.__init__).parameters)
    assert conv - vae == {"image_shape", "filters", "kernel_size", "strides", "batchnorm"}
    assert vae <= conv
