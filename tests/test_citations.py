"""Every document the code cites is inside the repository, and every rule id it cites is defined there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / name for name in ("sandbox", "scenarios", "loadtests", "scripts", "tests")]
DOCUMENT = re.compile(r"\b([A-Za-z0-9_./-]+\.md)\b")
RULE = re.compile(r"\b(META-[A-Z]+(?:-[A-Z0-9]+)*|SEED-[A-Z]+-[0-9]+)\b")
# Files the code writes (a load run's report), not documents it cites.
WRITTEN = {"report.md"}


def _texts() -> list[tuple[Path, str]]:
    found = []
    for source in SOURCES:
        for path in sorted(source.rglob("*")):
            if path.suffix in {".py", ".yaml", ".yml"} or (path.parent.name == "scripts" and path.is_file()):
                found.append((path, path.read_text(errors="replace")))
    return found


def _documents() -> dict[str, Path]:
    return {path.name: path for path in [*ROOT.glob("*.md"), *ROOT.glob("docs/**/*.md")]}


def test_every_cited_document_is_in_the_repository() -> None:
    documents = _documents()
    missing = []
    for path, text in _texts():
        for cited in DOCUMENT.findall(text):
            if cited in WRITTEN or cited == "test_citations.md":
                continue
            if not ((ROOT / cited).exists() or Path(cited).name in documents):
                missing.append(f"{path.relative_to(ROOT)}: {cited}")
    assert not missing, "cited documents outside the repository:\n" + "\n".join(missing)


def test_every_cited_rule_id_is_defined_in_the_reference_documents() -> None:
    reference = "\n".join(path.read_text() for path in (ROOT / "docs" / "reference").glob("*.md"))
    missing = sorted(
        {
            f"{path.relative_to(ROOT)}: {rule}"
            for path, text in _texts()
            if path.name != "test_citations.py"
            for rule in RULE.findall(text)
            if rule not in reference
        }
    )
    assert not missing, "rule ids defined nowhere in docs/reference:\n" + "\n".join(missing)


def test_every_link_in_the_docs_leads_inside_the_repository() -> None:
    """A user is only ever sent to a page they have: README.md's and docs/'s relative links all resolve."""
    link = re.compile(r"\]\(([^)\s]+)\)")
    broken = []
    for page in [ROOT / "README.md", *sorted(ROOT.glob("docs/**/*.md"))]:
        for target in link.findall(page.read_text()):
            if target.startswith(("http://", "https://", "mailto:", "#")):
                continue
            if not (page.parent / target.split("#")[0]).exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, "links to pages outside the repository:\n" + "\n".join(broken)
