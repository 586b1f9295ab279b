"""Root pytest configuration: doctests of optional-dependency modules.

``--doctest-modules`` imports every module under ``skae/``; the plotting and Dask
helpers and the ONNX export need optional extras, so their doctests are skipped
where those are absent (e.g. the minimum-dependency CI run).
"""

import importlib.util

collect_ignore = [
    path
    for path, module in [("skae/plotting", "matplotlib"), ("skae/parallel.py", "distributed"),
                         ("skae/onnx.py", "skl2onnx")]
    if importlib.util.find_spec(module) is None
]
