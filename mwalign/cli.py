"""Command-line interface: ``mwalign run`` plus one subcommand per stage.

Each stage subcommand calls the same package function as its notebook, so the
CLI and the book can never disagree about what a stage does.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from mwalign import config


def _add_profile_args(parser: argparse.ArgumentParser, profile_help: str = "params/<name>.yml or a path (default: smoke)",
                      ) -> None:
    parser.add_argument("--profile", default=None, help=profile_help)
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override a parameter, e.g. --set training.batch_size=16 (repeatable; values are YAML)",
    )
    parser.add_argument("--run-dir", default=None, help="artifact folder (default: runs/<profile name>)")


def _load(args: argparse.Namespace) -> tuple[config.RunConfig, Path]:
    from mwalign.evaluation.tasks import check_task_names  # cheap: the names only, no mteb

    cfg = config.load_config(args.profile or "smoke", args.overrides)
    check_task_names(cfg.evaluation.tasks, cfg.evaluation.role_tasks)  # every name, before any stage runs
    return cfg, config.run_dir_for(cfg, args.run_dir)


def cmd_run(args: argparse.Namespace) -> None:
    from mwalign import pipeline

    only = [s for part in (args.only or []) for s in part.split(",") if s]
    outcome = pipeline.run(
        args.profile or "smoke", overrides=args.overrides, only=only, run_dir=args.run_dir,
        book_root=args.book_root, force=args.force, build=not args.no_book,
    )
    print(" ".join(f"{stage}={state}" for stage, state in outcome.items()))


def cmd_plan(args: argparse.Namespace) -> None:
    from mwalign import planning

    cfg, run_dir = _load(args)
    work = planning.plan_work(cfg, run_dir)
    print(planning.format_plan(cfg, work, planning.estimate_costs(cfg, work, run_dir)))


def cmd_book(args: argparse.Namespace) -> None:
    from mwalign import pipeline

    root = Path(args.book_root).resolve() if args.book_root else config.REPO_ROOT
    print(pipeline.build_book(root))


@contextlib.contextmanager
def _locked(run_dir: Path) -> Iterator[None]:
    """Hold the run folder's lock (``mwalign.pipeline.run_lock``): a second mwalign process on it is refused.

    A stage that refuses its input leaves the run dir as it was: a folder this call created for the lock
    is removed again (with the lock file) when the stage fails.
    """
    from mwalign.pipeline import run_lock

    created = not run_dir.exists()
    try:
        with run_lock(run_dir):
            yield
    except BaseException:
        if created and [p.name for p in run_dir.iterdir()] == [".mwalign.lock"]:
            shutil.rmtree(run_dir, ignore_errors=True)
        raise


def cmd_corpus(args: argparse.Namespace) -> None:
    from mwalign import corpus

    cfg, run_dir = _load(args)
    with _locked(run_dir):
        manifest = corpus.run_corpus_stage(cfg, run_dir)
        corpus.run_quality_study(cfg, run_dir)
        corpus.run_sensitivity_study(cfg, run_dir)
    print(f"corpus {manifest['content_hash']} written to {run_dir / 'corpus'}")


def cmd_train(args: argparse.Namespace) -> None:
    from mwalign import training

    cfg, run_dir = _load(args)
    with _locked(run_dir):
        table = training.run_alignment_stage(cfg, run_dir)
    print(table.to_string(index=False))


def cmd_me5(args: argparse.Namespace) -> None:
    from mwalign import training

    cfg, run_dir = _load(args)
    with _locked(run_dir):
        table = training.run_me5_stage(cfg, run_dir)
    print(table.to_string(index=False))


# What `mwalign evaluate MODEL...` uses without --profile: evaluation.evaluate's own defaults.
LIBRARY_DEFAULTS = ("library defaults, no --profile (max length 128, dtype bf16, batch 64, bootstrap 200, English the "
                    "only seen language, every subset of each task); --profile P scores as that profile's runs do")


def cmd_evaluate(args: argparse.Namespace) -> None:
    from mwalign import evaluation

    if not args.models:
        given = [flag for flag, value in (("--tasks", args.tasks), ("--langs", args.langs), ("--output", args.output))
                 if value is not None]
        if given:
            raise ValueError(f"{', '.join(given)}: only with MODELs; a run's evaluation takes its tasks, languages "
                             "and folder from the profile (use --set evaluation.tasks=[...] there)")
        cfg, run_dir = _load(args)
        with _locked(run_dir):
            table = evaluation.run_evaluation_stage(cfg, run_dir)
        print(table.to_string(index=False))
        return
    out = Path(args.output or "results")
    config.check_run_dir(out.expanduser().resolve(), "--output", flag="--output")  # before any work
    for name in args.tasks or []:
        evaluation.tasks.check_task_name(name, "--tasks")
    if args.profile is None:
        if args.overrides or args.run_dir:
            raise ValueError("--set and --run-dir need --profile: they change a profile's evaluation settings")
        table = evaluation.evaluate({m: m for m in args.models}, tasks=args.tasks or ["Tatoeba"], langs=args.langs,
                                    results_dir=out)
        print(table.to_string(index=False))
        print(f"scored with {LIBRARY_DEFAULTS}")  # after the table: a refused input stays one error line
        return
    else:
        cfg, run_dir = _load(args)
        entries = [evaluation.ModelEntry(m, m) for m in args.models]
        table = evaluation.evaluate_with_profile(
            cfg, entries, out, seen=evaluation.seen_languages_of(cfg, run_dir),
            exclude=evaluation.training_sentences(run_dir), tasks=args.tasks, langs=args.langs)
    print(table.to_string(index=False))


def cmd_models(args: argparse.Namespace) -> None:
    from mwalign import models

    for name in args.names or models.local_model_names(on_demand=False):
        print(f"{name}: {models.prepare(name)}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mwalign", description=__doc__.splitlines()[0], allow_abbrev=False)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute the notebooks with papermill, skipping unchanged stages, and build the book")
    _add_profile_args(run)
    run.add_argument("--only", action="append", metavar="STAGE", help="data, train, me5, evaluate, results, intro (repeatable or comma-separated)")
    run.add_argument("--force", action="store_true", help="rerun stages even if unchanged")
    run.add_argument("--no-book", action="store_true", help="do not build the book afterwards")
    run.add_argument("--book-root", default=None, help="write executed chapters, the headline and the book here "
                     "(default: the repository for the cpu profile, the committed book's; <run dir>/book otherwise)")
    run.set_defaults(func=cmd_run)

    plan = sub.add_parser("plan", help="print each stage's work and expected minutes without running anything")
    _add_profile_args(plan)
    plan.set_defaults(func=cmd_plan)

    book = sub.add_parser("book", help="build the HTML book from the executed chapters")
    book.add_argument("--book-root", default=None)
    book.set_defaults(func=cmd_book)

    for name, func, text in (
        ("corpus", cmd_corpus, "build the multi-way corpus and its bilingual twin (chapter 01)"),
        ("train", cmd_train, "multi-way vs bilingual alignment training (chapter 02)"),
        ("me5", cmd_me5, "fine-tune mE5 on a small multi-way corpus (chapter 03)"),
    ):
        stage = sub.add_parser(name, help=text)
        _add_profile_args(stage)
        stage.set_defaults(func=func)

    evaluate = sub.add_parser("evaluate", help="MTEB evaluation of the run's models, or of the MODELs given (chapter 04)")
    _add_profile_args(evaluate, "params/<name>.yml or a path: with MODELs, score them with its evaluation settings "
                                "(without: library defaults); without MODELs, the run to evaluate (default: smoke)")
    evaluate.add_argument("models", nargs="*", help="sentence-transformers folders or hub names (default: the run's models)")
    evaluate.add_argument("--tasks", nargs="+", default=None,
                          help="MTEB task names (with MODELs; default: the profile's, or Tatoeba without --profile)")
    evaluate.add_argument("--langs", nargs="+", default=None,
                          help="ISO 639-3 codes (with MODELs), applied to each task as far as it has them")
    evaluate.add_argument("--output", default=None, help="results folder (with MODELs; default: results)")
    evaluate.set_defaults(func=cmd_evaluate)

    models = sub.add_parser("models", help="offline models")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    prepare = models_sub.add_parser("prepare", help="convert/copy the offline models into the models cache (idempotent)")
    prepare.add_argument("names", nargs="*", help="me5-small, minilm-en, tiny-xlmr (default: all)")
    prepare.set_defaults(func=cmd_models)
    for subparser in [*sub.choices.values(), *models_sub.choices.values()]:
        subparser.allow_abbrev = False  # `--profil smoke` is an error, not `--profile smoke`
    return parser


PACKAGE_DIR = Path(__file__).resolve().parent


def is_own_error(err: BaseException) -> bool:
    """True for errors mwalign raises on purpose: one of its error classes, or a ValueError/RuntimeError/OSError
    raised by mwalign's own code (its message names the file or parameter). A library's error is not."""
    if type(err).__module__.split(".")[0] == "mwalign":
        return True
    if not isinstance(err, (ValueError, RuntimeError, OSError)) or err.__traceback__ is None:
        return False
    tb = err.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    return Path(tb.tb_frame.f_code.co_filename).resolve().is_relative_to(PACKAGE_DIR)


class Interrupted(BaseException):
    """SIGTERM, raised where the program is (as SIGINT raises KeyboardInterrupt), so cleanups run."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Interrupted(signum)


INTERRUPTED = "interrupted; rerun the same command to resume"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if threading.current_thread() is threading.main_thread() \
        else None
    try:
        args.func(args)
    except KeyboardInterrupt:
        print(f"mwalign: {INTERRUPTED}", file=sys.stderr)
        return 128 + signal.SIGINT
    except Interrupted:
        print(f"mwalign: {INTERRUPTED}", file=sys.stderr)
        return 128 + signal.SIGTERM
    except Exception as err:
        if not is_own_error(err):
            raise  # a bug or a library failure: the traceback is what is needed to fix it
        # Our errors are one line that names the file or parameter; show it without a traceback.
        print(f"mwalign: error: {err}", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":
    sys.exit(main())
