"""Debian Apertium (rule-based MT) as a translation backend.

One ``apertium <mode>`` process translates a whole batch: sentences go in one
per line and come out one per line. Sentences are flattened to a single line
first (newlines, form feeds and Unicode line separators become spaces), and
every call checks that the output has exactly as many lines as the input; a
call that crashes or loses the mapping is bisected down to the offending
sentences, which come back as ``Translation(None)`` (a counted drop) instead
of shifting their neighbours.

Unknown words are marked by Apertium (``*word`` unknown to the analyser,
``@word`` missing from the bilingual dictionary, ``#word`` not generated).
We keep the marks on the wire, count them per sentence, then strip them; a
mark that was already in the source (``*star``) is left alone. Portuguese,
French and Italian go through Spanish, Macedonian through Croatian, Bulgarian
through Croatian and Macedonian; the pivot's unknowns are counted once.

Measured caveat: Apertium's HMM tagger carries state across lines, so about 1% of
eng-spa and 4% of en-gl sentences translate slightly differently depending on the
sentences before them in the batch (``-z`` null flushing does not reset it). A
translation is therefore cached the first time it is made; the builder sends
batches in a fixed order, so two cold builds are still byte-identical.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from mwalign import atomic
from mwalign.corpus.backends.base import BackendError, Translation, TranslationBackend
from mwalign.corpus.text import flatten

# Target language -> chain of Apertium modes from English (por/fra/ita pivot through Spanish).
ROUTES: dict[str, tuple[str, ...]] = {
    "spa": ("eng-spa",),
    "cat": ("eng-cat",),
    "epo": ("en-eo",),
    "glg": ("en-gl",),
    "por": ("eng-spa", "es-pt"),
    "fra": ("eng-spa", "es-fr"),
    "ita": ("eng-spa", "spa-ita"),
    # apertium-hbs-eng: one Serbo-Croatian analysis, three standards. eng-hbs_SR writes Latin script
    # (no Latn->Cyrl mode is installed; Cyrl-Latn only goes the other way), so srp is Serbian in Latin.
    "hrv": ("eng-hbs_HR",),
    "srp": ("eng-hbs_SR",),
    "bos": ("eng-hbs_BS",),
    # There is no eng-mkd: Macedonian pivots through Croatian (apertium-hbs-mkd), Bulgarian through both.
    "mkd": ("eng-hbs_HR", "hbs-mkd"),
    "bul": ("eng-hbs_HR", "hbs-mkd", "mkd-bul"),
}
MODES_DIR = Path("/usr/share/apertium/modes")
_MARKED = re.compile(r"(?<![\w*#@])([*#@])(\w[\w'’-]*)")
_TRAILING_HASH = re.compile(r"(?<=\w)#(?![\w#])")
# Debian's apertium-hbs-mkd 0.1.1 runs its constraint grammar with dependency output: the <#i→j> tags cg-proc adds
# make the rest of the chain print an empty line for any sentence with an adjective + noun ("star čovjek"), so 43% of
# NTREX sentences came back empty. We run the installed pipeline with those tags removed right after cg-proc.
_PATCHED_MODES = {"hbs-mkd": ("hbs-mkd.rlx.bin' |", " sed -E 's/<#[0-9]+→[0-9]+>//g' |")}

def strip_marks(output: str, source: str) -> tuple[str, list[str]]:
    """Remove Apertium's unknown-word marks; return the clean text and the marked words.

    A marked token that already occurs verbatim in the source (e.g. ``*star``) is kept.
    """
    marked: list[str] = []

    def unmark(match: re.Match[str]) -> str:
        if match.group(0) in source:
            return match.group(0)
        marked.append(match.group(2))
        return match.group(2)

    clean = _MARKED.sub(unmark, output)
    if "#" not in source:  # eng-hbs closes an uninflected multiword lemma with '#' too ("@go# to")
        clean = _TRAILING_HASH.sub("", clean)
    return clean, marked


class _CallFailed(Exception):
    pass


class ApertiumBackend(TranslationBackend):
    """English -> {spa, cat, epo, glg, por, fra, ita, hrv, srp, bos, mkd, bul} with the installed Debian pairs."""

    name = "apertium"

    def __init__(self, binary: str = "apertium", batch_lines: int = 5000, timeout_s: float = 600.0) -> None:
        self.binary = binary
        self.batch_lines = batch_lines
        self.timeout_s = timeout_s
        # (mode, line) -> marked output: por/fra/ita reuse the eng-spa step instead of re-running it.
        self._memo: dict[tuple[str, str], str] = {}

    @property
    def model_id(self) -> str:
        return "apertium"

    @property
    def version(self) -> str:
        return ";".join(f"{mode}={_mode_version(mode)}" for mode in sorted({m for r in ROUTES.values() for m in r}))

    def version_for(self, src: str, tgt: str) -> str:
        return "+".join(f"{mode}={_mode_version(mode)}" for mode in ROUTES[tgt])

    @property
    def preferred_batch_size(self) -> int:
        return self.batch_lines

    def pairs(self) -> set[tuple[str, str]]:
        return {("eng", tgt) for tgt, route in ROUTES.items() if all(_mode_installed(m) for m in route)}

    def check_pair(self, src: str, tgt: str, *, where: str = "corpus.pool") -> None:
        if shutil.which(self.binary) is None:
            raise BackendError(f"{where}: the {self.binary!r} command is not installed; apt-get install apertium")
        if src == "eng" and tgt in ROUTES:
            missing = [m for m in ROUTES[tgt] if not _mode_installed(m)]
            if missing:
                raise BackendError(
                    f"{where}: apertium mode(s) {', '.join(missing)} for eng->{tgt} are not installed "
                    f"(see `apertium -l`); apt-get install the matching apertium-* language pair"
                )
        super().check_pair(src, tgt, where=where)

    def _translate(self, texts: list[str], src: str, tgt: str) -> list[Translation]:
        lines = [flatten(t) for t in texts]
        budget = _FailureBudget(len(lines))
        unknown_words: list[list[str]] = [[] for _ in lines]
        current: list[str | None] = list(lines)
        for mode in ROUTES[tgt]:
            live = [i for i, line in enumerate(current) if line]
            outputs = self._run_memoised(mode, [current[i] for i in live], budget)
            for i, out in zip(live, outputs):
                if out is None:
                    current[i] = None
                    continue
                clean, marked = strip_marks(out, lines[i])
                seen = set(unknown_words[i])
                unknown_words[i].extend(w for w in marked if w not in seen)
                current[i] = clean.strip()
        return [Translation(c if c else None, len(u)) for c, u in zip(current, unknown_words)]

    def _run_memoised(self, mode: str, lines: list[str], budget: "_FailureBudget") -> list[str | None]:
        todo = sorted({line for line in lines if (mode, line) not in self._memo})
        for line, out in zip(todo, self._run_bisecting(mode, todo, budget)):
            if out is not None:
                self._memo[(mode, line)] = out
        return [self._memo.get((mode, line)) for line in lines]

    def _run_bisecting(self, mode: str, lines: list[str], budget: "_FailureBudget") -> list[str | None]:
        """Translate ``lines`` in one call; on a crash or a broken line mapping, split and retry."""
        if not lines:
            return []
        try:
            return list(self._run_mode(mode, lines))
        except _CallFailed as err:
            if len(lines) == 1:
                budget.spend(mode, str(err))
                return [None]
        half = len(lines) // 2
        return self._run_bisecting(mode, lines[:half], budget) + self._run_bisecting(mode, lines[half:], budget)

    def _run_mode(self, mode: str, lines: list[str]) -> list[str]:
        payload = ("\n".join(lines) + "\n").encode("utf-8")
        patched = _patched_mode_dir(mode)
        command = [self.binary, mode] if patched is None else [self.binary, "-d", str(patched), mode]
        try:
            proc = subprocess.run(
                command, input=payload, capture_output=True, timeout=self.timeout_s, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            raise _CallFailed(f"{type(err).__name__}: {err}") from None
        if proc.returncode != 0:
            raise _CallFailed(f"exit {proc.returncode}: {proc.stderr.decode('utf-8', 'replace').strip()[:200]}")
        out = proc.stdout.decode("utf-8", "replace")
        out_lines = out[:-1].split("\n") if out.endswith("\n") else out.split("\n")
        if len(out_lines) != len(lines):
            raise _CallFailed(f"{len(out_lines)} output lines for {len(lines)} input lines")
        return out_lines


class _FailureBudget:
    """Isolated single-sentence failures are tolerated (and counted); a backend failing wholesale is an error."""

    def __init__(self, n: int) -> None:
        self.allowed = max(3, n // 100)
        self.failures = 0

    def spend(self, mode: str, reason: str) -> None:
        self.failures += 1
        if self.failures > self.allowed:
            raise BackendError(
                f"apertium {mode}: more than {self.allowed} sentences failed in one batch (last: {reason}); "
                "check `apertium -l` and the installed language pairs"
            )


@lru_cache(maxsize=None)
def _mode_installed(mode: str) -> bool:
    return (MODES_DIR / f"{mode}.mode").is_file()


@lru_cache(maxsize=None)
def _patched_mode_dir(mode: str) -> Path | None:
    """A private modes folder holding the fixed pipeline of ``mode`` (:data:`_PATCHED_MODES`), or None to run it as is."""
    if mode not in _PATCHED_MODES or not _mode_installed(mode):
        return None
    needle, insert = _PATCHED_MODES[mode]
    pipeline = (MODES_DIR / f"{mode}.mode").read_text(encoding="utf-8")
    if needle not in pipeline or insert in pipeline:  # another packaging: run it unchanged
        return None
    fixed = pipeline.replace(needle, needle + insert, 1)
    folder = Path(tempfile.gettempdir()) / f"mwalign-apertium-{hashlib.sha256(fixed.encode()).hexdigest()[:12]}"
    atomic.write_text(folder / "modes" / f"{mode}.mode", fixed)
    return folder


@lru_cache(maxsize=None)
def _mode_version(mode: str) -> str:
    """Debian package version of the language pair behind a mode (``unknown`` if dpkg cannot say)."""
    mode_file = MODES_DIR / f"{mode}.mode"
    if not mode_file.is_file():
        return "missing"
    match = re.search(r"/usr/share/apertium/(apertium-[\w-]+)/", mode_file.read_text(encoding="utf-8", errors="replace"))
    if match is None or shutil.which("dpkg-query") is None:
        return "unknown"
    proc = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", match.group(1)], capture_output=True, text=True, check=False
    )
    patch = "+mwalign-cg-fix" if mode in _PATCHED_MODES else ""
    return f"{match.group(1)}:{proc.stdout.strip() or 'unknown'}{patch}"
