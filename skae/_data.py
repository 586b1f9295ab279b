"""The data layer of skae: input validation, datasets, batches, transfer to the device.

Everything between the array a user passes and the float32 tensor a module sees
lives here, so that the estimators (:mod:`skae._base`) and the training engine
(:mod:`skae.engine`) never look at the kind of input:

* validation (:func:`validate_input`): in-memory arrays go through scikit-learn's
  ``validate_data``; lazily indexed arrays (:class:`numpy.memmap`, ``h5py.Dataset``,
  ``zarr.Array``...) and :mod:`scipy.sparse` matrices (CSR, CSC, COO...) are
  checked without a dense copy and wrapped in a :class:`LazyArray` /
  :class:`SparseArray`;
* datasets: in-memory data become one tensor (:class:`ArrayDataset`); lazy and
  sparse data are read and densified to float32 one batch of rows at a time
  (:class:`LazyDataset`);
* batches: :class:`BatchIterator` gathers whole batches by slicing (instead of a
  per-sample ``__getitem__`` and a collate step, where a default skorch net spends
  20-70 % extra time on small MLPs), :func:`host_batch` the rows of one inference
  batch; on a CUDA device every batch is gathered into pinned host memory and
  copied to the device asynchronously.
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.validation import validate_data

__all__ = [
    "FLOAT_DTYPES",
    "SEED_MAX",
    "ArrayDataset",
    "BatchIterator",
    "LazyArray",
    "LazyDataset",
    "ShardBatch",
    "SparseArray",
    "check_float32_range",
    "host_batch",
    "is_lazy",
    "make_dataset",
    "model_input",
    "take_rows",
    "validate_input",
]

#: The float dtypes validation keeps (anything else becomes float64, scikit-learn's way).
FLOAT_DTYPES = (np.float64, np.float32)

#: Exclusive upper bound of the seeds skae draws from a RandomState (int32 range).
SEED_MAX = int(np.iinfo(np.int32).max)

#: Largest finite float32: float64 data beyond it would become infinite in the model.
_FLOAT32_MAX = float(np.finfo(np.float32).max)

#: The sparse formats validation keeps as they are; any other becomes CSR.
_SPARSE_FORMATS = ("csr", "csc", "coo")

#: Bytes read per chunk when a :class:`LazyArray` scans or materialises its source.
_CHUNK_BYTES = 1 << 24


# ------------------------------------------------------------------ arrays
class LazyArray:
    """A 2-D array-like whose rows are read and converted to float32 on demand.

    Wraps a :class:`numpy.memmap` or any 2-D array-like that supports row slicing
    and integer-array indexing (``h5py.Dataset``, ``zarr.Array``, a dask array ...),
    optionally restricted to a subset of its rows, without ever holding a full
    copy: :meth:`read` returns one batch as a float32 ndarray. The estimators wrap
    such inputs in a LazyArray after :meth:`scan` has checked that every value is
    finite and recorded the range, so that :meth:`min` and :meth:`max` are free;
    the object otherwise quacks like the float32 training array the estimators'
    hooks receive (``shape``, ``size``, ``len``, ``min()``, ``max()``, indexing).

    Parameters
    ----------
    source : array-like of shape (n_rows, n_features)
        The data (numeric dtype).
    rows : ndarray of int, optional
        Sorted subset of the rows of ``source`` that this array exposes.

    Attributes
    ----------
    dtype : numpy dtype
        The float dtype scikit-learn validation would give the data (float32 for
        float32 sources, float64 otherwise); the dtype of results computed from it.
        Batches handed to the model are always float32.
    """

    ndim = 2

    def __init__(self, source, rows=None):
        self.source = source
        self.rows = None if rows is None else np.asarray(rows, dtype=np.intp)
        src_dtype = np.dtype(source.dtype)
        self.dtype = np.dtype(np.float32 if src_dtype == np.float32 else np.float64)
        self._range = None

    # -- array protocol ------------------------------------------------------------
    @property
    def shape(self):
        n = self.source.shape[0] if self.rows is None else len(self.rows)
        return (int(n), int(self.source.shape[1]))

    @property
    def size(self):
        n, d = self.shape
        return n * d

    def __len__(self):
        return self.shape[0]

    def __repr__(self):
        return f"LazyArray(shape={self.shape}, source={type(self.source).__name__})"

    def __getitem__(self, key):
        """Rows (a slice, integer array or boolean mask) as a float32 ndarray."""
        if isinstance(key, tuple):
            rows, cols = key[0], key[1:]
            return self[rows][(slice(None), *cols)]
        if isinstance(key, Integral):
            return self.read(np.array([key]))[0]
        if isinstance(key, slice):
            return self.read(key)
        key = np.asarray(key)
        if key.dtype == bool:
            key = np.flatnonzero(key)
        order = np.argsort(key, kind="stable")
        out = np.empty((len(key), self.shape[1]), dtype=np.float32)
        out[order] = self.read(key[order])
        return out

    def __array__(self, dtype=None, copy=None):
        # An explicit full read (np.asarray(lazy)), filled chunk by chunk.
        out = np.empty(self.shape, dtype=np.float32)
        for start, stop in self.chunks():
            out[start:stop] = self.read(slice(start, stop))
        return out if dtype is None else out.astype(dtype, copy=False)

    # -- reading ---------------------------------------------------------------------
    def chunks(self, nbytes=None):
        """``(start, stop)`` row ranges of about ``nbytes`` bytes each (default 16 MiB)."""
        nbytes = _CHUNK_BYTES if nbytes is None else nbytes
        n, d = self.shape
        step = max(1, nbytes // max(1, d * np.dtype(self.source.dtype).itemsize))
        return [(start, min(start + step, n)) for start in range(0, n, step)]

    def read(self, index, out=None) -> np.ndarray:
        """Rows ``index`` (a slice, or an int array sorted ascending) as float32.

        ``out`` (float32, C-ordered, of the right shape) receives them if given.
        Sorted indices read the source front to back, which is what makes random
        mini-batches from a memory map or an HDF5 file cheap.
        """
        if self.rows is not None:
            index = self.rows[index]
        elif not isinstance(index, slice):
            index = np.asarray(index, dtype=np.intp)
        block = self.source[index]
        if out is None:
            return np.array(block, dtype=np.float32, order="C", copy=True)
        out[...] = block
        return out

    def subset(self, rows) -> LazyArray:
        """The rows ``rows`` (positions in this array) as a new LazyArray (no copy)."""
        rows = np.sort(np.asarray(rows, dtype=np.intp))
        sub = type(self)(self.source, rows if self.rows is None else self.rows[rows])
        sub.dtype = self.dtype
        return sub

    # -- statistics -----------------------------------------------------------------
    def scan(self):
        """Check that every value is finite and record the range, chunk by chunk.

        Raises
        ------
        ValueError
            When a value is NaN or infinite (the message names which).
        """
        lo, hi = np.inf, -np.inf
        is_float = np.dtype(self.source.dtype).kind == "f"
        for start, stop in self.chunks():
            block = np.asarray(self.source[slice(start, stop) if self.rows is None
                                           else self.rows[start:stop]])
            if is_float and not np.isfinite(block).all():
                what = "NaN" if np.isnan(block).any() else "infinity or a value too large"
                raise ValueError(
                    f"Input X contains {what} (in rows {start} to {stop - 1})."
                )
            if block.size:
                lo = min(lo, float(block.min()))
                hi = max(hi, float(block.max()))
        self._range = (lo, hi)
        return self

    def _checked_range(self):
        if self._range is None:
            self.scan()
        return self._range

    def min(self):
        """Smallest value (from :meth:`scan`)."""
        return self._checked_range()[0]

    def max(self):
        """Largest value (from :meth:`scan`)."""
        return self._checked_range()[1]


class SparseArray(LazyArray):
    """A :mod:`scipy.sparse` matrix read as dense float32 rows, one batch at a time.

    The matrix (or array) is kept in CSR form (CSC, COO and the other formats are
    converted once: a copy of the non-zeros, never a dense one); :meth:`read`
    densifies only the requested rows. Implicit zeros count as values, so
    :meth:`min` and :meth:`max` are those of the dense twin, and so is every batch:
    a fit on a sparse matrix is the fit on its dense twin.

    Parameters
    ----------
    source : sparse matrix or array of shape (n_rows, n_features)
        The data (float dtype after validation).
    rows : ndarray of int, optional
        Sorted subset of the rows of ``source`` that this array exposes.
    """

    def __init__(self, source, rows=None):
        super().__init__(source.tocsr(), rows)

    def __repr__(self):
        return f"SparseArray(shape={self.shape}, nnz={self.source.nnz})"

    def read(self, index, out=None) -> np.ndarray:
        if self.rows is not None:
            index = self.rows[index]
        elif not isinstance(index, slice):
            index = np.asarray(index, dtype=np.intp)
        # float32 non-zeros first: the dense block is made once, in its final dtype
        block = self.source[index].astype(np.float32)
        if out is None:
            return block.toarray(order="C")
        return block.toarray(out=out)

    def scan(self):
        """Check that every stored value is finite and record the range of the data.

        Raises
        ------
        ValueError
            When a stored value is NaN or infinite.
        """
        data = (self.source if self.rows is None else self.source[self.rows]).data
        if data.size and not np.isfinite(data).all():
            what = "NaN" if np.isnan(data).any() else "infinity or a value too large"
            raise ValueError(f"Input X contains {what}.")
        lo, hi = (float(data.min()), float(data.max())) if data.size else (np.inf, -np.inf)
        if data.size < self.size:  # implicit zeros are values of the dense twin
            lo, hi = min(lo, 0.0), max(hi, 0.0)
        self._range = (lo, hi)
        return self


def _pinned_like(shape, dtype=torch.float32):
    # Page-locked host memory, from torch's caching host allocator: blocks are reused,
    # and not before the asynchronous copies that read them have finished.
    return torch.empty(shape, dtype=dtype, pin_memory=True)


class ArrayDataset(torch.utils.data.Dataset):
    """In-memory dataset of a tensor ``X`` and an optional target tensor ``y``.

    ``take(index)`` returns a whole batch at once (one tensor indexing per array).
    ``y=None`` means the target is the input itself (reconstruction).
    """

    def __init__(self, X: torch.Tensor, y: torch.Tensor | None = None):
        if y is not None and len(y) != len(X):
            raise ValueError(f"X and y have different lengths: {len(X)} and {len(y)}.")
        self.X = X
        self.y = y

    def __len__(self):
        return len(self.X)

    def _take_X(self, index, pin):
        if not pin:
            return self.X[index]
        if isinstance(index, slice):
            index = torch.arange(*index.indices(len(self.X)))
        out = _pinned_like((len(index), *self.X.shape[1:]), self.X.dtype)
        return torch.index_select(self.X, 0, index, out=out)

    def take(self, index, pin_memory=False):
        """Batch for ``index`` (a slice or a 1-D index tensor) as ``(X, y)``.

        With ``pin_memory=True`` the rows of ``X`` are gathered into page-locked
        memory, ready for an asynchronous copy to a CUDA device.
        """
        y = None if self.y is None else self.y[index]
        return self._take_X(index, pin_memory), y

    def __getitem__(self, i):
        return self.take(i)

    def __getitems__(self, indices):
        # Lets a torch DataLoader fetch a whole batch with one indexing call.
        return self.take(torch.as_tensor(indices))


class LazyDataset(ArrayDataset):
    """Dataset over a :class:`LazyArray`: each batch is read and converted on demand.

    Only one batch of float32 rows exists at a time; ``y`` (optional) is an
    in-memory tensor.
    """

    def _take_X(self, index, pin):
        if isinstance(index, torch.Tensor):
            index = index.numpy()
        if not pin:
            return torch.from_numpy(self.X.read(index))
        n = len(range(*index.indices(len(self.X)))) if isinstance(index, slice) else len(index)
        out = _pinned_like((n, self.X.shape[1]))
        self.X.read(index, out=out.numpy())
        return out


class ShardBatch(tuple):
    """``(X, y)`` of this process's share of one global mini-batch (data parallel).

    ``n_local`` rows of the ``n_global`` rows of the global batch are this
    process's (``n_local`` may be 0: ``X`` then holds one placeholder row that
    gets zero weight).
    """

    def __new__(cls, X, y, n_local, n_global):
        self = super().__new__(cls, (X, y))
        self.n_local = int(n_local)
        self.n_global = int(n_global)
        return self


class BatchIterator:
    """Iterate over an :class:`ArrayDataset` in mini-batches.

    With ``shuffle=True`` a new permutation is drawn at the start of every pass
    from ``generator`` (torch's default generator when None); the training engine
    passes its own generator, seeded from the estimator's ``random_state``, so
    shuffling is reproducible and never touches the global generator. The indices
    of each batch are sorted, so every batch reads its rows front to back (cheap
    random batches from a memory-mapped file); the order of the rows inside a batch
    does not change what the batch computes.

    ``device``: a CUDA device makes every batch be gathered into pinned host memory
    and copied to the device asynchronously (``non_blocking``). ``shard=(rank,
    world_size)`` yields only this process's rows of every global batch, as
    :class:`ShardBatch` (data-parallel training).
    """

    def __init__(self, dataset: ArrayDataset, batch_size: int, shuffle: bool = False, *,
                 generator: torch.Generator | None = None, device=None, shard=None):
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.generator = generator
        self.device = None if device is None else torch.device(device)
        self.shard = shard

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def _fetch(self, index):
        cuda = self.device is not None and self.device.type == "cuda"
        X, y = self.dataset.take(index, pin_memory=cuda)
        if cuda:
            X = X.to(self.device, non_blocking=True)
            y = None if y is None else y.to(self.device, non_blocking=True)
        return X, y

    def __iter__(self):
        n, bs = len(self.dataset), self.batch_size
        perm = None
        if self.shuffle:
            perm = torch.randperm(n, generator=self.generator)
            # each batch's indices sorted, in one call per pass rather than one per batch
            full = n - n % bs
            perm = torch.cat([perm[:full].view(-1, bs).sort(dim=1).values.view(-1),
                              perm[full:].sort().values])
        for start in range(0, n, bs):
            stop = min(start + bs, n)
            if perm is None:
                index = slice(start, stop)
            else:
                index = perm[start:stop]
            if self.shard is None:
                yield self._fetch(index)
                continue
            rank, world = self.shard
            if isinstance(index, slice):
                index = torch.arange(start, stop)
            local = index[rank::world]
            n_local = len(local)
            if n_local == 0:  # fewer rows than processes: a placeholder, weighted 0
                local = index[:1]
            yield ShardBatch(*self._fetch(local), n_local=n_local, n_global=stop - start)


def host_batch(X, start: int, stop: int, pin: bool = False) -> torch.Tensor:
    """Rows ``start:stop`` of ``X`` as a float32 CPU tensor.

    ``X`` is a :class:`LazyArray` or an ndarray of any float dtype: the conversion
    to float32 happens per batch, so no full float32 copy of ``X`` is ever made.
    ``pin=True`` puts the rows in page-locked memory.
    """
    if isinstance(X, LazyArray):
        if not pin:
            return torch.from_numpy(X.read(slice(start, stop)))
        out = _pinned_like((stop - start, X.shape[1]))
        X.read(slice(start, stop), out=out.numpy())
        return out
    chunk = X[start:stop]
    if pin:
        out = _pinned_like(chunk.shape)
        out.numpy()[...] = chunk
        return out
    return torch.from_numpy(np.require(chunk, dtype=np.float32, requirements=["C", "W"]))


# -------------------------------------------------------------- validation
def check_float32_range(X, name: str = "X"):
    """Raise a ValueError if float64 ``X`` (ndarray or LazyArray) overflows float32.

    skae computes in float32, where such values become infinite (NaN results).
    """
    if np.dtype(X.dtype) != np.float64 or not X.size:
        return
    lo, hi = float(X.min()), float(X.max())
    if hi > _FLOAT32_MAX or lo < -_FLOAT32_MAX:
        big = hi if hi > -lo else lo
        raise ValueError(
            f"Input {name} contains a value too large for float32, the precision skae "
            f"computes in ({big:.4g}; float32 ends at +-{_FLOAT32_MAX:.4g}), which would "
            "become infinite. Rescale the data (e.g. with StandardScaler or MinMaxScaler)."
        )


def _as_float32(X: np.ndarray) -> np.ndarray:
    # torch.from_numpy needs a writable, C-ordered buffer; copy only when needed.
    return np.require(X, dtype=np.float32, requirements=["C", "W"])


def is_lazy(X) -> bool:
    """Whether ``X`` is read batch by batch instead of being validated into memory.

    True for :class:`numpy.memmap` and for 2-D array-likes that are not ndarrays,
    sparse matrices, tensors or data frames but have a numeric ``dtype``, a
    ``shape`` and indexing (``h5py.Dataset``, ``zarr.Array``, dask arrays...).
    """
    if isinstance(X, LazyArray | np.memmap):
        return True
    if isinstance(X, np.ndarray | torch.Tensor) or sp.issparse(X):
        return False
    if not all(hasattr(X, a) for a in ("shape", "dtype", "__getitem__")):
        return False
    if hasattr(X, "iloc") or hasattr(X, "__dataframe__"):
        return False
    try:
        kind = np.dtype(X.dtype).kind
    except TypeError:
        return False
    return kind in "biuf"


def model_input(X):
    """The float32 array the model trains on: a C-ordered ndarray, or ``X`` if lazy."""
    return X if isinstance(X, LazyArray) else _as_float32(X)


def make_dataset(X32, y=None, rows=None) -> ArrayDataset:
    """Dataset of ``X32`` (rows ``rows`` only, if given) for the engine.

    In-memory data become one tensor (a copy of the selected rows); a
    :class:`LazyArray` stays lazy (on disk, or sparse), restricted to ``rows``.
    """
    yt = None if y is None else torch.as_tensor(y)
    if rows is not None:
        # sorted, so that a lazy source is read front to back; in-memory data take
        # the same order, so both give the same fit
        rows = np.sort(np.asarray(rows))
        yt = None if yt is None else yt[torch.from_numpy(rows)]
    if isinstance(X32, LazyArray):
        return LazyDataset(X32 if rows is None else X32.subset(rows), yt)
    Xt = torch.from_numpy(X32)
    return ArrayDataset(Xt if rows is None else Xt[torch.from_numpy(rows)], yt)


def take_rows(X32, rows):
    """Rows ``rows`` of an in-memory or lazy float32 array (lazy stays lazy)."""
    if isinstance(X32, LazyArray):
        return X32.subset(rows)
    return np.ascontiguousarray(X32[rows])


def validate_input(estimator, X, reset: bool):
    """Validate ``X`` for ``estimator`` into a float ndarray or a :class:`LazyArray`.

    Sparse matrices (a :class:`SparseArray`) and lazy inputs (memory maps,
    HDF5/zarr arrays, see :func:`is_lazy`) are never densified whole: their shape
    and dtype are checked and their values scanned (finite, range for ``min()`` /
    ``max()``). Everything else goes through scikit-learn's ``validate_data``.
    Either way, float64 values beyond float32's range are rejected.
    """
    if sp.issparse(X):
        X = validate_data(estimator, X, reset=reset, dtype=list(FLOAT_DTYPES),
                          accept_sparse=list(_SPARSE_FORMATS))
        X = SparseArray(X).scan()
    elif is_lazy(X):
        X = _validate_lazy(estimator, X, reset)
    else:
        X = validate_data(estimator, X, reset=reset, dtype=list(FLOAT_DTYPES))
    check_float32_range(X)
    return X


def _validate_lazy(estimator, X, reset: bool) -> LazyArray:
    name = type(estimator).__name__
    shape = tuple(X.shape)
    if len(shape) != 2:
        raise ValueError(
            f"Expected a 2D array, got an array of shape {shape} instead. {name} reads "
            "memory-mapped and other array-like inputs of shape (n_samples, n_features)."
        )
    kind = np.dtype(X.dtype).kind
    if kind not in "biuf":
        raise ValueError(f"{name} needs numeric data; X has dtype {X.dtype}.")
    if shape[0] < 1:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={shape}) while a minimum of 1 is "
            f"required by {name}."
        )
    if shape[1] < 1:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={shape}) while a minimum of 1 is "
            f"required by {name}."
        )
    validate_data(estimator, X, reset=reset, skip_check_array=True)
    if isinstance(X, LazyArray):
        return X if X._range is not None else X.scan()
    return LazyArray(X).scan()
