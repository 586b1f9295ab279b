"""Export fitted skae estimators to ONNX, alone or inside a scikit-learn Pipeline.

Importing this module registers a `skl2onnx <https://onnx.ai/sklearn-onnx/>`_
converter (parser, shape calculator and converter) for every public skae
estimator, so that :func:`skl2onnx.to_onnx` converts them, and pipelines holding
them (scalers before, :class:`~sklearn.linear_model.LogisticRegression` or
:class:`~sklearn.svm.SVC` after), like any scikit-learn model::

    import skae.onnx  # noqa: F401  (registers the converters)
    from skl2onnx import to_onnx
    onx = to_onnx(pipeline, X_train[:1].astype(np.float32))

The torch part (encoder, decoder, score) is exported by PyTorch's TorchScript
ONNX exporter at opset ``min(target_opset, 20)`` and its nodes are copied into the
skl2onnx graph (operators of the default ``ai.onnx`` domain only). The graph
computes what the estimator computes: ``transform`` is the code (the posterior
mean for the variational autoencoders; the convolutional models fold the flat
rows into images inside the graph), and a :class:`~skae.StackedAutoencoderClassifier`
gives ``label`` and ``probabilities`` (a tensor, no ZipMap).

Precision: skae computes in float32. A float32 input gives float32 outputs; a
float64 input (as in the estimator) is cast to float32 inside the graph and the
result cast back to float64, so the outputs keep the input dtype while the
arithmetic stays float32.

Needs the ``deploy`` extra: ``pip install "skae[deploy]"`` (onnx, onnxruntime,
skl2onnx, skops).
"""

from __future__ import annotations

import copy
import io
import warnings

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper
from skl2onnx import to_onnx as _skl2onnx_to_onnx
from skl2onnx import update_registered_converter
from skl2onnx.common.data_types import (
    DoubleTensorType,
    FloatTensorType,
    Int64TensorType,
    StringTensorType,
    guess_data_type,
)
from skl2onnx.common.utils import check_input_and_output_numbers

from ._base import BaseAutoencoder
from ._stacked import StackedAutoencoder, StackedAutoencoderClassifier
from .nn import ReconstructionLoss

__all__ = ["METHODS", "TORCH_MAX_OPSET", "export_torch", "register", "to_onnx"]

#: Highest opset of PyTorch's TorchScript-based ONNX exporter.
TORCH_MAX_OPSET = 20

#: Methods :func:`to_onnx` exports.
METHODS = ("transform", "inverse_transform", "score_samples", "predict_proba")


class _Method(torch.nn.Module):
    """A fitted estimator's method as a module, for the exporter."""

    def __init__(self, module, fn):
        super().__init__()
        self.module = module
        self.fn = fn

    def forward(self, x):
        return self.fn(self.module, x)


def _per_sample_loss(loss, output, x):
    """``ReconstructionLoss.per_sample``, in a form that exports stably.

    The exporter turns ``binary_cross_entropy_with_logits`` into ``log(sigmoid)``,
    which is ``0 * -inf = NaN`` once a logit saturates float32's sigmoid; this is
    the same loss written as ``max(l, 0) - l * x + log(1 + exp(-|l|))``.
    """
    if loss == "bce":
        logits = output.logits
        err = logits.clamp(min=0) - logits * x + torch.log1p(torch.exp(-logits.abs()))
    else:
        err = (output.reconstruction - x).square()
    return err.flatten(1).mean(dim=1)


def _method_fn(est, method: str):
    """``(fn(module, x) -> tensor, n_inputs, n_outputs)`` of ``est.method`` in float32."""
    n_in, n_code = est.n_features_in_, getattr(est, "n_components", None)
    if isinstance(est, StackedAutoencoderClassifier):
        if method != "predict_proba":
            raise ValueError(
                f"StackedAutoencoderClassifier exports 'predict_proba' (labels and "
                f"probabilities), not {method!r}."
            )
        return (lambda m, x: m(x)), n_in, len(est.classes_)
    if method == "transform":
        if getattr(est, "sample_latent", False):
            raise ValueError(
                "sample_latent=True makes transform draw random codes; the ONNX export "
                "computes the posterior mean. Set sample_latent=False to export it."
            )
        return (lambda m, x: m.encode(x)), n_in, n_code
    if method == "inverse_transform":
        return (lambda m, x: m.decode(x)), n_code, n_in
    if method == "score_samples":
        criterion = est.net_.criterion_
        if not isinstance(est, BaseAutoencoder) or not isinstance(criterion,
                                                                  ReconstructionLoss):
            raise ValueError(
                f"score_samples is exported for the deterministic autoencoders (negative "
                f"reconstruction error), not for {type(est).__name__}."
            )
        return (lambda m, x: -_per_sample_loss(criterion.loss, m(x), x)), n_in, 1
    raise ValueError(f"method must be one of {METHODS}, got {method!r}.")


def export_torch(est, method: str = "transform", opset: int = TORCH_MAX_OPSET):
    """The float32 ONNX model of a fitted estimator's method, as PyTorch exports it.

    Parameters
    ----------
    est : fitted skae estimator
        The model.
    method : {"transform", "inverse_transform", "score_samples", "predict_proba"}, \
default="transform"
        What the graph computes: codes, reconstructions, scores, or (for
        :class:`~skae.StackedAutoencoderClassifier`) class logits.
    opset : int, default=20
        Opset of the default domain (at most :data:`TORCH_MAX_OPSET`).

    Returns
    -------
    model : onnx.ModelProto
        One float32 input ``x`` of shape ``(N, n_in)``, one output ``y`` of shape
        ``(N, n_out)`` (``(N,)`` for ``score_samples``); ``N`` is dynamic.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import Autoencoder
    >>> from skae.onnx import export_torch
    >>> X = np.random.RandomState(0).rand(50, 6)
    >>> ae = Autoencoder(n_components=2, max_iter=2, random_state=0).fit(X)
    >>> [i.name for i in export_torch(ae).graph.input]
    ['x']
    """
    fn, n_in, _ = _method_fn(est, method)
    module = copy.deepcopy(est.net_.module_).cpu().eval()
    wrapper = _Method(module, fn).eval()
    buf = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        # the TorchScript exporter is deprecated but needs no extra package offline
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper, (torch.zeros(2, n_in),), buf, dynamo=False,
            opset_version=min(int(opset), TORCH_MAX_OPSET),
            input_names=["x"], output_names=["y"],
            dynamic_axes={"x": {0: "N"}, "y": {0: "N"}},
        )
    return onnx.load_from_string(buf.getvalue())


# ------------------------------------------------------------------ skl2onnx glue
def _embed(scope, container, graph, input_name: str, output_name: str, prefix: str):
    """Copy ``graph``'s nodes and initializers into ``container`` under fresh names."""
    rename = {graph.input[0].name: input_name, graph.output[0].name: output_name}
    prefix = scope.get_unique_variable_name(prefix)

    def name(n):
        return n if not n else rename.get(n, f"{prefix}_{n}")

    for init in graph.initializer:
        tensor = TensorProto()
        tensor.CopyFrom(init)
        tensor.name = name(init.name)
        container.initializers.append(tensor)
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        container.add_node(
            node.op_type, [name(i) for i in node.input], [name(o) for o in node.output],
            op_domain=node.domain or "", name=scope.get_unique_operator_name(
                f"{prefix}_{node.op_type}"), **attrs,
        )


def _float_io(scope, container, operator, compute):
    """Run ``compute(in_name, out_name)`` in float32, casting a float64 input and output."""
    x = operator.inputs[0]
    double = isinstance(x.type, DoubleTensorType)
    src = x.full_name
    if double or not isinstance(x.type, FloatTensorType):
        src = scope.get_unique_variable_name("skae_x32")
        container.add_node("Cast", [x.full_name], [src], to=TensorProto.FLOAT,
                           name=scope.get_unique_operator_name("skae_cast"))
    out = operator.outputs[0].full_name
    if not double:
        return compute(src, out)
    tmp = scope.get_unique_variable_name("skae_y32")
    compute(src, tmp)
    container.add_node("Cast", [tmp], [out], to=TensorProto.DOUBLE,
                       name=scope.get_unique_operator_name("skae_cast"))


def _opset(container):
    return min(container.target_opset, TORCH_MAX_OPSET)


def _transformer_shape(operator):
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    x = operator.inputs[0]
    n = x.get_first_dimension()
    out_type = DoubleTensorType if isinstance(x.type, DoubleTensorType) else FloatTensorType
    operator.outputs[0].type = out_type([n, operator.raw_operator.n_components])


def _transformer_converter(scope, operator, container):
    est = operator.raw_operator
    graph = export_torch(est, "transform", _opset(container)).graph
    _float_io(scope, container, operator,
              lambda src, out: _embed(scope, container, graph, src, out,
                                      type(est).__name__.lower()))


def _classifier_parser(scope, model, inputs, custom_parsers=None):
    operator = scope.declare_local_operator(_alias(type(model)), model)
    operator.inputs = inputs
    label_type = StringTensorType() if model.classes_.dtype.kind in "OUS" else \
        Int64TensorType()
    operator.outputs.append(scope.declare_local_variable("label", label_type))
    operator.outputs.append(scope.declare_local_variable("probabilities", FloatTensorType()))
    return operator.outputs


def _classifier_shape(operator):
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type.shape = [n]
    operator.outputs[1].type = FloatTensorType([n, len(operator.raw_operator.classes_)])


def _classifier_converter(scope, operator, container):
    est = operator.raw_operator
    graph = export_torch(est, "predict_proba", _opset(container)).graph
    x = operator.inputs[0]
    src = x.full_name
    if not isinstance(x.type, FloatTensorType):
        src = scope.get_unique_variable_name("skae_x32")
        container.add_node("Cast", [x.full_name], [src], to=TensorProto.FLOAT,
                           name=scope.get_unique_operator_name("skae_cast"))
    logits = scope.get_unique_variable_name("skae_logits")
    _embed(scope, container, graph, src, logits, "stackedclassifier")
    label, proba = operator.outputs[0].full_name, operator.outputs[1].full_name
    container.add_node("Softmax", [logits], [proba], axis=1,
                       name=scope.get_unique_operator_name("skae_softmax"))
    index = scope.get_unique_variable_name("skae_argmax")
    container.add_node("ArgMax", [logits], [index], axis=1, keepdims=0,
                       name=scope.get_unique_operator_name("skae_argmax"))
    classes = est.classes_
    if classes.dtype.kind in "OUS":
        classes_name = scope.get_unique_variable_name("skae_classes")
        container.add_initializer(classes_name, TensorProto.STRING, [len(classes)],
                                  [str(c).encode() for c in classes])
    else:
        if classes.dtype.kind == "f" and not np.all(np.mod(classes, 1) == 0):
            raise ValueError("ONNX export supports integer or string class labels.")
        classes_name = scope.get_unique_variable_name("skae_classes")
        container.add_initializer(classes_name, TensorProto.INT64, [len(classes)],
                                  [int(c) for c in classes])
    container.add_node("Gather", [classes_name, index], [label], axis=0,
                       name=scope.get_unique_operator_name("skae_label"))


def _alias(cls):
    return f"Skae{cls.__name__}"


def _public_transformers():
    import skae

    return [cls for name in skae.__all__
            if isinstance(cls := getattr(skae, name), type)
            and issubclass(cls, BaseAutoencoder | StackedAutoencoder)]


def register():
    """Register the skl2onnx converters of every public skae estimator.

    Importing :mod:`skae.onnx` calls it; call it again after importing a subclass
    of a skae estimator to register that class too (subclasses of the public
    estimators are matched by their exact class only).

    Returns
    -------
    classes : list of type
        The registered classes.

    Examples
    --------
    >>> import skae
    >>> from skae.onnx import register
    >>> skae.Autoencoder in register()
    True
    """
    classes = _public_transformers()
    for cls in classes:
        update_registered_converter(cls, _alias(cls), _transformer_shape, _transformer_converter)
    update_registered_converter(
        StackedAutoencoderClassifier, _alias(StackedAutoencoderClassifier), _classifier_shape,
        _classifier_converter, parser=_classifier_parser,
    )
    return [*classes, StackedAutoencoderClassifier]


register()


# ----------------------------------------------------------------------- public
def to_onnx(est, X_sample, method: str = "transform", target_opset: int | None = None):
    """Convert a fitted estimator (or a Pipeline holding skae estimators) to ONNX.

    Parameters
    ----------
    est : fitted skae estimator or scikit-learn Pipeline
        The model. A Pipeline (or any model skl2onnx converts) is exported with
        :func:`skl2onnx.to_onnx`; only ``method="transform"`` applies to it.
    X_sample : ndarray of shape (n_samples, n_in)
        An input sample: its dtype (float32 or float64) and width make the graph's
        input ``X`` (the number of rows is dynamic).
    method : {"transform", "inverse_transform", "score_samples", "predict_proba"}, \
default="transform"
        The method the graph computes. ``"transform"`` goes through skl2onnx (the
        same graph as in a Pipeline; a classifier then gives ``label`` and
        ``probabilities``); ``"inverse_transform"`` takes codes (``X_sample`` of
        width ``n_components``); ``"score_samples"`` is for the deterministic
        autoencoders (negative reconstruction error per sample, shape ``(N,)``).
    target_opset : int, default=None
        Opset of the default domain; None lets skl2onnx choose (its latest tested
        one). The torch part is exported at ``min(target_opset, 20)``.

    Returns
    -------
    model : onnx.ModelProto
        Input ``X``; output ``variable`` (transform, skl2onnx's name) or ``Y``
        (the other methods).

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from skae import Autoencoder
    >>> from skae.onnx import to_onnx
    >>> X = np.random.RandomState(0).rand(50, 6).astype(np.float32)
    >>> ae = Autoencoder(n_components=2, max_iter=2, random_state=0).fit(X)
    >>> sess = ort.InferenceSession(to_onnx(ae, X).SerializeToString())
    >>> Z = sess.run(None, {"X": X})[0]
    >>> bool(np.abs(Z - ae.transform(X)).max() < 1e-5)
    True
    """
    X_sample = np.asarray(X_sample)
    if method == "transform" or (method == "predict_proba"
                                 and isinstance(est, StackedAutoencoderClassifier)):
        kwargs = {} if target_opset is None else {"target_opset": target_opset}
        return _skl2onnx_to_onnx(est, X_sample, **kwargs)
    if not hasattr(est, "net_"):
        raise ValueError(
            f"method={method!r} is exported for a fitted skae estimator, not for "
            f"{type(est).__name__} (use method='transform' for a Pipeline)."
        )
    opset = min(TORCH_MAX_OPSET if target_opset is None else target_opset, TORCH_MAX_OPSET)
    model = export_torch(est, method, opset)
    graph = model.graph
    dtype = guess_data_type(X_sample)[0][1]
    double = isinstance(dtype, DoubleTensorType)
    elem = TensorProto.DOUBLE if double else TensorProto.FLOAT
    nodes = list(graph.node)
    # the torch graph's input x / output y become X / Y, with casts for float64
    pre = [helper.make_node("Cast", ["X"], ["x"], to=TensorProto.FLOAT, name="skae_cast_in")]
    post = [helper.make_node("Cast", ["y"], ["Y"], to=elem, name="skae_cast_out")]
    width = X_sample.shape[1]
    out_shape = ["N"] if method == "score_samples" else ["N", _method_fn(est, method)[2]]
    new_graph = helper.make_graph(
        pre + nodes + post, f"skae_{type(est).__name__}_{method}",
        [helper.make_tensor_value_info("X", elem, ["N", width])],
        [helper.make_tensor_value_info("Y", elem, out_shape)],
        initializer=list(graph.initializer),
    )
    out = helper.make_model(new_graph, opset_imports=[helper.make_opsetid("", opset)],
                            producer_name="skae")
    out.ir_version = model.ir_version
    onnx.checker.check_model(out)
    return out
