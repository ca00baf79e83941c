"""The paper-shaped path on one device, with locally built models, in a few minutes: the GPU check.

It needs only torch, transformers, sentence-transformers, pandas, pyarrow, safetensors and scikit-learn
(no mteb, datasets, papermill or network): the package is imported from the source tree, and its few
data files come from an assets folder made beforehand on a machine with the full environment.

1. Translate sentences with the ``hf`` backend (and ``ct2`` if CTranslate2 is installed) on a tiny
   NLLB-shaped model (:mod:`mwalign.synthetic`), into two languages.
2. Train a randomly initialised XLM-R-base-sized encoder (the real XLM-R tokenizer) with the multi-way
   loss: multi-way and bilingual rows, plain and GradCache, through :func:`mwalign.training.loop.train`.
3. Score bitext mining on two Tatoeba languages with the dev metric (our own scorer).

It prints step time, sentences/s, peak device memory and the dtype that ran, one line each.

    # on a machine with the environment: copy the tokenizer and two Tatoeba pairs into a folder
    .venv/bin/python bench/gpu_check.py assets gpu_assets
    # on the GPU machine (the folder travels with the working tree or sits anywhere)
    python3 bench/gpu_check.py run gpu_assets --device cuda
    # here, small sizes
    .venv/bin/python bench/gpu_check.py run gpu_assets --device cpu --size tiny --steps 3 --sentences 40
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the package from the source tree, not an installed copy

TATOEBA_LANGS = ("spa", "fra")
SIZES = {  # hidden, layers, heads, ffn
    "base": (768, 12, 12, 3072),  # XLM-R base
    "tiny": (64, 2, 2, 128),
}


def make_assets(out: Path, data_dir: Path, tokenizer_dir: Path) -> None:
    """Copy what the check reads: the XLM-R tokenizer and the Tatoeba pairs of TATOEBA_LANGS."""
    out.mkdir(parents=True, exist_ok=True)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy2(tokenizer_dir / name, out / name)
    for lang in TATOEBA_LANGS:
        for side in (lang, "eng"):
            shutil.copy2(data_dir / "tatoeba" / f"tatoeba.{lang}-eng.{side}", out / f"tatoeba.{lang}-eng.{side}")
    print(f"assets in {out}: {', '.join(sorted(p.name for p in out.iterdir()))}")


def _peak(device) -> str:
    import torch

    if device.type != "cuda":
        return "n/a (cpu)"
    return f"{torch.cuda.max_memory_allocated(device) / 2**30:.2f} GiB"


def _reset_peak(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        torch.cuda.synchronize(device)


def encoder(assets: Path, size: str, device, work: Path):
    """A randomly initialised XLM-R-shaped encoder with the real tokenizer, as a sentence-transformers model."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaModel

    hidden, layers, heads, ffn = SIZES[size]
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(assets / "tokenizer.json"), bos_token="<s>",
                                        eos_token="</s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")
    torch.manual_seed(0)
    config = XLMRobertaConfig(vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers,
                              num_attention_heads=heads, intermediate_size=ffn, max_position_embeddings=514,
                              pad_token_id=1, bos_token_id=0, eos_token_id=2)
    folder = work / f"xlmr-{size}"
    XLMRobertaModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    transformer = Transformer(str(folder), max_seq_length=128)
    pooling = Pooling(transformer.get_embedding_dimension(), "mean")
    return SentenceTransformer(modules=[transformer, pooling], device=str(device))


def translate(texts: list[str], device, work: Path) -> dict[str, list[str]]:
    from mwalign.corpus.backends.base import get_backend
    from mwalign.synthetic import build_tiny_nllb

    model = build_tiny_nllb(work / "nllb", d_model=256, layers=3)
    engines = [("hf", {"dtype": "auto"})]
    try:
        import ctranslate2  # noqa: F401

        engines.append(("ct2", {"dtype": "auto", "models_dir": work / "ct2"}))
    except ImportError:
        print("translate ct2: skipped (ctranslate2 not installed)")
    outputs: dict[str, list[str]] = {}
    for name, options in engines:
        backend = get_backend(name, model=str(model), max_new_tokens=32, device=str(device), **options)
        backend.translate(texts[:2], "eng", "spa")  # load (and convert) outside the timing
        start = time.perf_counter()
        out = {tgt: [t.text or "x" for t in backend.translate(texts, "eng", tgt)] for tgt in ("spa", "fra")}
        seconds = time.perf_counter() - start
        print(f"translate {name}: {2 * len(texts) / seconds:.1f} sentences/s, dtype {backend.resolved_dtype}")
        outputs = outputs or out
    return outputs


def rows(texts: list[str], translations: dict[str, list[str]], *, multiway: bool):
    """The paper's row shapes from the translated roots: (eng, spa, fra) rows or (eng, X) pairs."""
    from mwalign.training.data import RowTable

    ids, langs, sents = [], [], []
    for i, text in enumerate(texts):
        if multiway:
            ids.append(f"r{i}"), langs.append(["eng", "spa", "fra"])
            sents.append([text, translations["spa"][i], translations["fra"][i]])
        else:
            tgt = ("spa", "fra")[i % 2]
            ids.append(f"r{i}"), langs.append(["eng", tgt]), sents.append([text, translations[tgt][i]])
    return RowTable(ids, langs, sents, "gpu_check")


def train_steps(model, table, settings_kwargs: dict, device, work: Path, label: str) -> None:
    from mwalign.training.encoding import effective_dtype
    from mwalign.training.loop import TrainSettings, train
    from mwalign.training.losses import MultiWayContrastiveLoss

    dtype = effective_dtype("bf16", device)
    settings = TrainSettings(learning_rate=2e-5, seed=0, epochs=100, dtype=dtype, show_progress=False,
                             eval_every=10**9, **settings_kwargs)
    loss = MultiWayContrastiveLoss(model)
    _reset_peak(device)
    records: list[dict] = []
    result = train(model, loss, table, None, settings, work / label, resume="never",
                   on_step=lambda step, record: records.append(record))
    seconds = [r["seconds"] for r in records[1:]] or [r["seconds"] for r in records]  # the first step warms up
    per_step = sorted(seconds)[len(seconds) // 2]
    sentences = sum(len(s) for s in table.sentences[: settings.batch_size])
    print(f"train {label}: {result.steps} steps, median step {per_step * 1e3:.0f} ms, "
          f"{sentences / per_step:.0f} sentences/s, peak memory {_peak(device)}, dtype {dtype}, "
          f"device {next(model.parameters()).device}, final loss {records[-1]['loss']:.4f}")


def bitext(model, assets: Path, device, n: int) -> None:
    from mwalign.training.data import RowTable
    from mwalign.training.dev_metric import bitext_accuracy
    from mwalign.training.encoding import effective_dtype

    dtype = effective_dtype("bf16", device)
    for lang in TATOEBA_LANGS:
        eng = (assets / f"tatoeba.{lang}-eng.eng").read_text(encoding="utf-8").splitlines()[:n]
        other = (assets / f"tatoeba.{lang}-eng.{lang}").read_text(encoding="utf-8").splitlines()[:n]
        table = RowTable([f"t{i}" for i in range(len(eng))], [["eng", lang]] * len(eng),
                         [list(pair) for pair in zip(eng, other)], f"tatoeba.{lang}-eng")
        start = time.perf_counter()
        accuracy = bitext_accuracy(model, table, dtype=dtype, batch_size=128)
        seconds = time.perf_counter() - start
        print(f"bitext tatoeba {lang}-eng: accuracy {100 * accuracy:.1f} (random weights: near chance), "
              f"{2 * len(eng) / seconds:.0f} sentences/s, dtype {dtype}")


def run(args: argparse.Namespace) -> None:
    import torch

    from mwalign.devices import resolve_device

    device = resolve_device(args.device, where="--device")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    versions = {m: __import__(m).__version__ for m in ("torch", "transformers", "sentence_transformers")}
    print(f"gpu_check on {device} ({name}); " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    started = time.perf_counter()
    texts = (args.assets / "tatoeba.spa-eng.eng").read_text(encoding="utf-8").splitlines()[: args.sentences]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        translations = translate(texts, device, work)
        model = encoder(args.assets, args.size, device, work)
        common = {"batch_size": args.batch_size, "max_steps": args.steps}
        for label, multiway in (("multiway", True), ("bilingual", False)):
            table = rows(texts, translations, multiway=multiway)
            train_steps(model, table, common, device, work, f"{label}-plain")
            train_steps(model, table, {**common, "grad_cache_mini_batch": args.batch_size},
                        device, work, f"{label}-gradcache")
        bitext(model, args.assets, device, args.bitext_pairs)
    print(json.dumps({"gpu_check_seconds": round(time.perf_counter() - started, 1)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("assets", help="copy the tokenizer and Tatoeba files into a folder", allow_abbrev=False)
    prep.add_argument("out", type=Path)
    prep.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    prep.add_argument("--tokenizer-dir", type=Path, default=ROOT / ".cache" / "models" / "tiny-xlmr")
    check = sub.add_parser("run", help="run the check on a device", allow_abbrev=False)
    check.add_argument("assets", type=Path, help="folder made by the assets command")
    check.add_argument("--device", default="auto")
    check.add_argument("--size", choices=sorted(SIZES), default="base")
    check.add_argument("--sentences", type=int, default=1000, help="roots translated and trained on")
    check.add_argument("--steps", type=int, default=50, help="optimizer steps per training run")
    check.add_argument("--batch-size", type=int, default=32)
    check.add_argument("--bitext-pairs", type=int, default=1000)
    args = parser.parse_args()
    if args.command == "assets":
        make_assets(args.out, args.data_dir, args.tokenizer_dir)
    else:
        run(args)


if __name__ == "__main__":
    main()
