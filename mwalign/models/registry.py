"""``mwalign.models.load``: one entry point for local names, model folders and hub ids.

Resolution order: a local name (``me5-small``, ``minilm-en``, ``tiny-xlmr``)
is prepared on demand in ``config.models_dir()``; an existing folder loads
directly; anything else is a Hugging Face hub id (``xlm-roberta-base``,
``intfloat/multilingual-e5-base``) loaded through the same
``SentenceTransformer`` call. Offline, a hub id that is not already in the
local HF cache fails at once with a one-line error naming the local
alternatives, instead of retrying for minutes.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from mwalign.hub import hub_reachable
from mwalign.models.fingerprint import check_weights, weight_files
from mwalign.models.prepare import ModelError, prepare
from mwalign.models.recipes import LOCAL_MODELS


def local_model_names(*, on_demand: bool = True) -> list[str]:
    """Local model names; ``on_demand=False`` leaves out those built only when named (``me5-small-l<L>``)."""
    return [name for name, model in LOCAL_MODELS.items() if on_demand or not model.on_demand]


def _looks_like_path(name: str) -> bool:
    """Hub ids are ``name`` or ``org/name``; anything else is meant as a folder."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name or name.endswith("/")


def resolve(name_or_path: str | Path) -> tuple[str, str]:
    """Classify without loading: ``("local", folder)``, ``("path", folder)`` or ``("hub", id)``."""
    text = str(name_or_path).strip()
    if not text:
        local = ", ".join(LOCAL_MODELS)
        raise ModelError(f"model name is empty; use a local name ({local}), a model folder or a hub id")
    if text in LOCAL_MODELS:
        return "local", text
    path = Path(text).expanduser()
    if path.exists() or isinstance(name_or_path, Path) or _looks_like_path(text):
        if not path.is_dir():
            raise ModelError(f"{path}: no such model folder")
        if not weight_files(path):
            raise ModelError(f"{path}: model folder has no weights (*.safetensors or pytorch_model.bin)")
        check_weights(path)
        check_complete(path)
        return "path", str(path.resolve())
    return "hub", text


# Files one of which a tokenizer needs (fast JSON, WordPiece, SentencePiece, BPE vocabularies).
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "sentencepiece.bpe.model", "spiece.model", "tokenizer.model",
                   "vocab.json")


def check_complete(folder: Path) -> None:
    """Refuse a model folder that ``SentenceTransformer`` would load incompletely, saying what is missing.

    Without tokenizer files it falls back to a 5-entry vocabulary (every word ``<unk>``); a tokenizer with
    more entries than the embedding matrix has rows indexes past it; a module listed in ``modules.json``
    whose folder or pooling config is missing is rebuilt with defaults. A plain transformers folder (no
    ``modules.json``) gets sentence-transformers' mean pooling, as documented.
    """
    modules_file = folder / "modules.json"
    modules = _json_file(modules_file) if modules_file.is_file() else []
    if not isinstance(modules, list) or not all(isinstance(m, dict) for m in modules):
        raise ModelError(f"{modules_file}: not a list of modules; copy the model folder again")
    for path in [*folder.glob("*.json"), *(folder / m.get("path", "") / "config.json" for m in modules)]:
        if path.name != "tokenizer.json" and path.is_file():
            _json_file(path)  # sentence-transformers reads each one; a damaged one is named here
    roots = [folder / m.get("path", "") for m in modules if "Transformer" in str(m.get("type", ""))] or [folder]
    for module in modules:
        if "Pooling" in str(module.get("type", "")) and not (folder / module.get("path", "") / "config.json").is_file():
            raise ModelError(f"{folder}: modules.json lists a pooling module, but {module.get('path')}/config.json "
                             "is missing; copy the whole model folder")
    for root in roots:
        _check_tokenizer(root)


def _json_file(path: Path):
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise ModelError(f"{path}: not valid JSON ({str(err).splitlines()[0][:120]}); copy the model folder "
                         "again, or rerun the stage that wrote it") from None


def _check_tokenizer(root: Path) -> None:
    present = [name for name in TOKENIZER_FILES if (root / name).is_file()]
    if not present:
        raise ModelError(f"{root}: no tokenizer files (one of {', '.join(TOKENIZER_FILES)}); every word would be "
                         "<unk>; copy the tokenizer files into the folder (tokenizer.save_pretrained)")
    if "tokenizer.json" not in present or not (root / "config.json").is_file():
        return
    try:
        stat = (root / "tokenizer.json").stat()
        entries = _tokenizer_entries(str(root / "tokenizer.json"), stat.st_size, stat.st_mtime_ns)
        rows = _json_file(root / "config.json").get("vocab_size")
    except ModelError:
        raise
    except Exception as err:  # tokenizers raises its own exception types for a damaged file
        raise ModelError(f"{root / 'tokenizer.json'}: not a readable tokenizer ({str(err).splitlines()[0]}); "
                         "copy the model folder again") from None
    if isinstance(rows, int) and entries > rows:
        raise ModelError(f"{root}: the tokenizer has {entries} entries but the embedding matrix (config.json "
                         f"vocab_size) has {rows} rows; the tokenizer belongs to another model")


@functools.lru_cache(maxsize=64)
def _tokenizer_entries(path: str, size: int, mtime_ns: int) -> int:
    """Entries of a ``tokenizer.json`` (0.5 s for XLM-R's 250k: remembered while the file is unchanged)."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(path).get_vocab_size(with_added_tokens=True)


def _load_hub(model_id: str):
    from sentence_transformers import SentenceTransformer

    if hub_reachable():
        return SentenceTransformer(model_id)
    try:  # offline, but a real user may have it in the HF cache already
        return SentenceTransformer(model_id, local_files_only=True)
    except (OSError, ValueError):
        pass
    raise ModelError(
        f"model {model_id!r} needs the Hugging Face hub, which is unreachable (offline); "
        f"use a local model instead: {', '.join(LOCAL_MODELS)} (mwalign models prepare)"
    )


def _construct(name_or_path: str | Path):
    from sentence_transformers import SentenceTransformer

    kind, target = resolve(name_or_path)
    if kind == "local":
        folder = prepare(target)
        check_weights(Path(folder))  # a damaged prepared copy: one line naming the file, not a library traceback
        return SentenceTransformer(str(folder))
    if kind == "path":
        return SentenceTransformer(target)
    return _load_hub(target)


def _position_limit(model) -> int | None:
    """Longest input the encoder's position table allows (RoBERTa reserves pad_token_id + 1 slots)."""
    config = getattr(getattr(model[0], "auto_model", None), "config", None)
    positions = getattr(config, "max_position_embeddings", None)
    if positions is None:
        return None
    if getattr(config, "model_type", "") in {"roberta", "xlm-roberta", "camembert"}:
        positions -= (config.pad_token_id or 0) + 1
    return positions


class _DropDefaultPromptNotice(logging.Filter):
    """sentence-transformers announces a model's ``default_prompt_name`` (mE5: "query") at load time.

    The notice does not apply to mwalign: training and evaluation pass their prompt explicitly
    (evaluation with ``prompt=""`` after prefixing), so it would only reach the chapters as noise.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Default prompt name is set to")


def load(name_or_path: str | Path, *, max_seq_length: int | None = None):
    """A ``SentenceTransformer`` for a local name, a model folder or a hub id (see module doc)."""
    if max_seq_length is not None and (not isinstance(max_seq_length, int) or max_seq_length < 1):
        raise ModelError(f"max_seq_length={max_seq_length!r}: expected a positive integer")
    notice, st_logger = _DropDefaultPromptNotice(), logging.getLogger("sentence_transformers.base.model")
    st_logger.addFilter(notice)
    try:
        model = _construct(name_or_path)
    finally:
        st_logger.removeFilter(notice)
    if max_seq_length is not None:
        limit = _position_limit(model)
        if limit is not None and max_seq_length > limit:
            raise ModelError(f"max_seq_length={max_seq_length} exceeds {name_or_path}'s {limit} positions")
        model.max_seq_length = max_seq_length
    return model
