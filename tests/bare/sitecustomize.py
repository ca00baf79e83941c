"""Loaded by Python at start-up when this folder is on PYTHONPATH: makes the interpreter look like the bare GPU
machine, whose Python has only torch, transformers, sentence-transformers, pandas, pyarrow, safetensors and
scikit-learn (plus their dependencies). Importing anything else fails."""

import importlib.abc
import sys

# datasets stays importable: sentence-transformers 6.2 (this environment) imports it at start-up, while the
# device's 6.0.1 runs without it; mwalign's own code imports it only in evaluation, which the check never loads.
ABSENT = {"mteb", "papermill", "pydantic", "sacrebleu", "gensim", "nbformat", "matplotlib", "seaborn",
          "jupyter_book", "selenium", "nltk", "ctranslate2"}


class _Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ABSENT:
            raise ModuleNotFoundError(f"No module named {name!r} (absent on the bare GPU machine)")
        return None


sys.meta_path.insert(0, _Absent())
