"""Numbers written in English words, as digits: "forty-two surveys" -> "42 surveys", "one month" -> "1 month".

One owner for it (text2num): the JSON fields copied from a request (skills/input_bound.py) and the lawyer
flow's deadline check (agents/lawyer/deadlines.py) both read counts and periods people write in words.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=512)
def as_digits(text: str) -> str:
    """text with every number written in words replaced by its digits (threshold 0: "one" and "two" too)."""
    from text_to_num import alpha2digit

    return alpha2digit(text, "en", threshold=0)
