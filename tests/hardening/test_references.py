"""Source files cited in comments and docstrings exist (a cited file that was renamed misleads the reader)."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def test_cited_source_files_exist():
    cited = re.compile(r"\b(reram/[\w/]+\.(?:py|v|vh|cpp))\b")
    missing = []
    for path in [*SRC.rglob("*.py"), *SRC.rglob("*.v"), *SRC.rglob("*.cpp")]:
        for ref in cited.findall(path.read_text(encoding="utf-8")):
            if not (SRC / ref).exists():
                missing.append(f"{path.relative_to(SRC)} cites {ref}")
    assert missing == []
