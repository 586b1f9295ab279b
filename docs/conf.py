"""Sphinx configuration of skae's documentation.

Build (from the repository root; must finish without a warning)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

or ``make -C docs html``. The build runs every example of the gallery
(``docs/examples``); ``-D plot_gallery=0`` skips them. It needs no network access:
links to the documentation of Python, NumPy, scikit-learn, PyTorch, skorch and
matplotlib (intersphinx) are only made with ``SKAE_DOCS_INTERSPHINX=1``, which
downloads their inventories.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # the examples draw without a display

import scipy.linalg  # noqa: E402, F401  (load every BLAS before limiting its threads)
import sklearn.linear_model  # noqa: E402, F401
import torch  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # document this checkout, installed or not

import skae  # noqa: E402

# The examples train small networks on digits, in this process (or, with ``-j N``,
# in N worker processes, which joblib limits to cpu_count // N threads). Small MLPs gain
# nothing from more threads, and on a busy 2-core machine torch's default of two
# threads made a digits fit 10-20 times slower (52 s instead of 3 s), BLAS threads
# a logistic regression 10 times; SKAE_DOCS_NUM_THREADS overrides the limit.
_N_THREADS = int(os.environ.get("SKAE_DOCS_NUM_THREADS", "1"))
torch.set_num_threads(_N_THREADS)
threadpool_limits(limits=_N_THREADS)

# -- project ---------------------------------------------------------------------
project = "skae"
author = "The skae developers"
copyright = "The skae developers"  # noqa: A001
version = release = skae.__version__

# -- general ---------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "examples/README.rst",
                    "examples/GALLERY_HEADER.rst"]
root_doc = "index"
default_role = "literal"  # `x` renders as code, as ``x`` does
pygments_style = "sphinx"

# -- autodoc / autosummary / numpydoc --------------------------------------------
autosummary_generate = True
autosummary_ignore_module_all = False  # a module's public API is its __all__
autodoc_typehints = "none"  # types are in the numpydoc sections
autodoc_member_order = "groupwise"
autodoc_inherit_docstrings = True
# The class templates list the methods themselves (see _templates/autosummary).
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- cross-references to other projects (optional, needs the network) ------------
if os.environ.get("SKAE_DOCS_INTERSPHINX", "") not in ("", "0"):
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "torch": ("https://docs.pytorch.org/docs/stable", None),
        "skorch": ("https://skorch.readthedocs.io/en/stable", None),
        "matplotlib": ("https://matplotlib.org/stable", None),
    }
    intersphinx_timeout = 30

# -- HTML ------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skae {release}"
html_static_path = ["_static"]
html_css_files = ["skae.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc", "sg_download_links", "sg_launcher_links"],
}
html_sidebars = {"index": [], "getting_started": []}
html_show_sourcelink = False

# -- sphinx-gallery --------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # run every example (they are all quick)
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skae",),
    "reference_url": {"skae": None},  # link the examples' code to the API pages
    "backreferences_dir": "generated/backreferences",
    # With ``-j N`` the examples run in N worker processes (joblib), N at a time.
    "parallel": True,
    "abort_on_example_error": False,  # report every failing example, then fail
    "only_warn_on_example_error": False,
    "remove_config_comments": True,
    "min_reported_time": 0,
    "show_memory": False,
    "download_all_examples": False,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "capture_repr": (),  # show what examples print, not the repr of their last line
}


# -- docstrings inherited from scikit-learn --------------------------------------
# Methods such as ``set_output`` keep scikit-learn's docstrings, whose :ref: and
# :term: roles point into scikit-learn's own documentation; without intersphinx they
# would be dangling references. Keep their text, drop the link.
_REF = re.compile(r":(?:ref|term):`([^`<]+?)\s*<[^`>]+>`|:(?:ref|term):`([^`]+)`")


def _unlink_foreign_refs(app, what, name, obj, options, lines):
    module = getattr(obj, "__module__", "") or ""
    if module.split(".")[0] == "skae" or "sphinx.ext.intersphinx" in app.extensions:
        return
    for i, line in enumerate(lines):
        lines[i] = _REF.sub(lambda m: f"*{(m.group(1) or m.group(2)).strip()}*", line)


def _skip_undocumented(app, what, name, obj, skip, options):
    # autosummary lists a class's methods from the same event autodoc uses to pick
    # the members it documents: skip undocumented ones in both, so that the methods
    # tables never link to entries autodoc left out.
    if not skip and callable(obj) and not inspect.getdoc(obj):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_undocumented)
    # numpydoc also connects to this event; connect after it (priority > 500) so the
    # lines seen are the final reST.
    app.connect("autodoc-process-docstring", _unlink_foreign_refs, priority=900)
