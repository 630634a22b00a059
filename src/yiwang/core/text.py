"""Chinese words for search and classification: one jieba tokenizer per process, built on first use (loading
its dictionary takes about a second), with the domain words every module registers at import."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

_WORD = re.compile(r"\w+")
_lock = threading.Lock()
_tokenizer = None
_domain_words: set[str] = set()


def add_domain_words(words: Iterable[str]) -> None:
    """Words jieba should keep whole (食品经营许可, 占道经营…). Cheap at import: before the tokenizer exists they are
    only remembered."""
    with _lock:
        new = set(words) - _domain_words
        _domain_words.update(new)
        if _tokenizer is not None:
            for word in new:
                _tokenizer.add_word(word, freq=2000)


def tokenizer():
    """The process's jieba tokenizer."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                built = jieba.Tokenizer()
                for word in sorted(_domain_words):
                    built.add_word(word, freq=2000)
                built.initialize()
                _tokenizer = built
    return _tokenizer


def clean(tokens: Iterable[str]) -> list[str]:
    """Lower-cased word characters of each token; punctuation and spaces dropped (order and repeats kept)."""
    out = []
    for token in tokens:
        word = "".join(_WORD.findall(token)).lower()
        if word:
            out.append(word)
    return out


def words(text: str) -> list[str]:
    """Accurate-mode words of `text`."""
    return clean(tokenizer().cut(text or ""))


def search_words(text: str) -> list[str]:
    """Search-mode words: whole words and their dictionary sub-words (食品经营许可 → 食品, 经营, 许可, …)."""
    return clean(tokenizer().cut_for_search(text or ""))


def query_words(text: str, limit: int) -> list[str]:
    """A search query's accurate-mode words, de-duplicated in order, at most `limit` (catalogue searches)."""
    return list(dict.fromkeys(words(text)))[:limit]
