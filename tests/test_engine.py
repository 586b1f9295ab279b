"""The training engine: pluggable penalties, training-only corruption, fast batches."""

import numpy as np
import pytest
import torch

from skae.engine import ArrayDataset, AutoencoderNet, BatchIterator, seeded
from skae.exceptions import TrainingDivergedError
from skae.nn import MLPAutoencoderModule, Penalty


class CodeL2(Penalty):
    name = "code_l2"

    def __init__(self, weight):
        self.weight = weight

    def __call__(self, output, X, module):
        return self.weight * output.code.square().mean()


class CountingNoise:
    """Corruption that records the batches it saw and adds a constant."""

    def __init__(self):
        self.calls = 0

    def __call__(self, X):
        self.calls += 1
        return X + 1.0


def make_net(**kwargs):
    module = MLPAutoencoderModule(6, 2, hidden_layer_sizes=(5,))
    kwargs.setdefault("max_epochs", 3)
    return AutoencoderNet(module, batch_size=16, lr=1e-2, optimizer=torch.optim.Adam,
                          verbose=0, **kwargs)


@pytest.fixture(autouse=True)
def _seed():
    # The engine draws from torch's global generator (the estimators seed it through
    # `seeded`); seed it here so each test is deterministic on its own.
    with seeded(0):
        yield


@pytest.fixture
def data():
    return ArrayDataset(torch.from_numpy(np.random.RandomState(0).rand(50, 6).astype("float32")))


def test_terms_recorded_and_sum_to_loss(data):
    net = make_net(penalties=[CodeL2(0.5)])
    net.fit(data)
    for epoch in net.history:
        for batch in epoch["batches"]:
            assert batch["train_loss"] == pytest.approx(
                batch["train_reconstruction"] + batch["train_code_l2"], rel=1e-5)
        assert {"train_reconstruction", "train_code_l2"} <= set(epoch)
    assert net.term_names == ("reconstruction", "code_l2")


def test_penalty_changes_what_is_learned(data):
    with seeded(0):
        plain = make_net(max_epochs=40).fit(data)
    with seeded(0):
        shrunk = make_net(max_epochs=40, penalties=[CodeL2(60.0)]).fit(data)
    with torch.no_grad():
        c_plain = plain.module_.encode(data.X).square().mean()
        c_shrunk = shrunk.module_.encode(data.X).square().mean()
    assert c_shrunk < 0.2 * c_plain


def test_corruption_only_in_training_and_target_is_clean(data):
    noise = CountingNoise()
    valid = ArrayDataset(data.X[:10])
    from skorch.helper import predefined_split

    net = make_net(corruption=noise, train_split=predefined_split(valid), max_epochs=2)
    net.fit(data)
    n_train_batches = 2 * len(BatchIterator(data, 16))
    assert noise.calls == n_train_batches  # never called on validation batches
    # inference uses the clean input
    out = net.apply_batched(net.module_.encode, data.X.numpy())
    with torch.no_grad():
        np.testing.assert_allclose(out, net.module_.encode(data.X).numpy(), rtol=1e-6)


def test_loss_targets_the_clean_input(data):
    # Corruption that erases the input: the net can only learn to output the mean of
    # the clean data, so the training loss stays at the data's variance (~1/12). Had
    # the loss used the corrupted input (zeros) as target, it would fall to ~0.
    net = make_net(corruption=torch.zeros_like, max_epochs=150).fit(data)
    assert net.history[-1, "train_loss"] > 0.8 * data.X.var(0).mean().item()
    with torch.no_grad():
        out = net.module_(torch.zeros(1, 6)).reconstruction[0]
    np.testing.assert_allclose(out.numpy(), data.X.mean(0).numpy(), atol=0.1)


def test_batch_iterator_slices_and_shuffles(data):
    it = BatchIterator(data, 16, shuffle=False)
    batches = [x for x, _ in it]
    assert [len(b) for b in batches] == [16, 16, 16, 2] and len(it) == 4
    assert torch.equal(torch.cat(batches), data.X)
    with seeded(1):
        a = torch.cat([x for x, _ in BatchIterator(data, 16, shuffle=True)])
    with seeded(1):
        b = torch.cat([x for x, _ in BatchIterator(data, 16, shuffle=True)])
    assert torch.equal(a, b) and not torch.equal(a, data.X)
    assert torch.equal(a.sort(0).values, data.X.sort(0).values)


def test_shuffled_batches_read_their_rows_in_order(data):
    """Each shuffled batch holds its rows in ascending order (sequential reads from a
    memory map), the batches still cover a fresh permutation each pass."""
    g = torch.Generator().manual_seed(3)
    idx = torch.arange(50, dtype=torch.float32)[:, None]
    it = BatchIterator(ArrayDataset(idx), 16, shuffle=True, generator=g)
    for _ in range(2):
        batches = [x[:, 0] for x, _ in it]
        assert [len(b) for b in batches] == [16, 16, 16, 2]
        assert all(torch.equal(b, b.sort().values) for b in batches)
        assert torch.equal(torch.cat(batches).sort().values, idx[:, 0])
        assert not torch.equal(torch.cat(batches), idx[:, 0])


def test_training_mode_is_set_on_the_whole_tree_only_when_needed(data, monkeypatch):
    net = make_net(max_epochs=1).fit(data)
    module = net.module_
    module.eval()
    net._set_training(True)
    assert all(m.training for m in module.modules())
    module.encoder[0].eval()  # one submodule left in evaluation mode
    net._set_training(True)
    assert all(m.training for m in module.modules())
    calls = []
    original = type(module).train
    monkeypatch.setattr(type(module), "train",
                        lambda self, mode=True: calls.append(mode) or original(self, mode))
    net._set_training(True)  # already in training mode: nothing to switch
    assert calls == []
    net._set_training(False)
    assert calls == [False] and not any(m.training for m in module.modules())


def test_dataset_supports_torch_dataloader(data):
    loader = torch.utils.data.DataLoader(data, batch_size=8, collate_fn=lambda b: b)
    x, y = next(iter(loader))
    assert torch.equal(x, data.X[:8]) and y is None


def test_explicit_target(data):
    y = torch.zeros_like(data.X)
    net = make_net(max_epochs=30).fit(ArrayDataset(data.X, y))
    with torch.no_grad():
        assert net.module_(data.X).reconstruction.abs().max() < 0.2


def test_divergence_is_reported():
    X = torch.full((20, 6), 1e20)
    net = make_net()
    with pytest.raises(TrainingDivergedError, match="epoch 1, batch 1"):
        net.fit(ArrayDataset(X))


def test_seeded_restores_global_state():
    state = torch.get_rng_state()
    with seeded(5):
        a = torch.rand(3)
    with seeded(5):
        b = torch.rand(3)
    assert torch.equal(a, b)
    assert torch.equal(torch.get_rng_state(), state)


def test_penalty_names_must_be_distinct():
    with pytest.raises(ValueError, match="distinct names"):
        make_net(penalties=[CodeL2(1.0), CodeL2(2.0)])


def test_penalties_are_scaled_to_the_papers_convention(data):
    # Penalty weights are relative to the reconstruction summed over the features;
    # the engine reports the per-feature mean, so it divides each penalty by n_features.
    net = make_net(penalties=[CodeL2(0.5)], max_epochs=1)
    net.initialize()
    X = data.X[:32]
    with torch.no_grad():
        out = net.module_(X)
        recon, pen = net.get_loss_terms(out, X, X=X)
    assert pen.item() == pytest.approx(0.5 * out.code.square().mean().item() / X.shape[1])
    assert recon.item() == pytest.approx(torch.nn.functional.mse_loss(out.reconstruction,
                                                                      X).item())
    # so the loss is the papers' objective divided by n_features
    paper = ((out.reconstruction - X).square().sum(1).mean()
             + 0.5 * out.code.square().mean())
    assert (recon + pen).item() == pytest.approx(paper.item() / X.shape[1], rel=1e-5)
    # a criterion that already sums over the features (VAE) gets no scaling
    assert AutoencoderNet(net.module_, criterion=torch.nn.CrossEntropyLoss).initialize() \
        .penalty_scale(torch.zeros(4, dtype=torch.long)) == 1.0


def test_l2_weight_penalty_is_half_lambda_sum_of_squared_weights():
    from skae.penalties import L2WeightPenalty

    module = MLPAutoencoderModule(6, 2, hidden_layer_sizes=(5,))
    module.decoder[0][0].weight.requires_grad_(False)  # frozen: not decayed
    out = module(torch.rand(3, 6))
    expected = sum(p.square().sum() for n, p in module.named_parameters()
                   if n.endswith("weight") and p.requires_grad)
    value = L2WeightPenalty(0.2)(out, None, module)
    assert value.item() == pytest.approx(0.1 * expected.item())
    value.backward()
    assert all(p.grad is None for n, p in module.named_parameters() if n.endswith("bias"))
