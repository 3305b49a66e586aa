"""The project's own short text for the character-level task (no torch here: the budget reads its size)."""

from __future__ import annotations

from pathlib import Path

TEXT = Path(__file__).parent / "text" / "lighthouse.txt"


def load_text() -> str:
    """The shipped text: a lighthouse keeper's notebook, written for this project."""
    return TEXT.read_text(encoding="utf-8")


def text_vocab(text: str) -> list[str]:
    """The text's characters, sorted: symbol i is vocab[i]."""
    return sorted(set(text))
