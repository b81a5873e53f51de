"""Customer messages for the brand-voice generator in many registers: what a reply must answer, and to whom.

Holds the register renderers (polite, angry, terse, all caps, texting, several problems at once,
rambling, formal letter, signed with an accented name, no name), the project's own paraphrase
pools for them, and the corpus reader that takes real Bitext messages while leaving out every row an
unseen item quotes. Each message comes with the problems and actions the reply names and the first
name the reply must greet (None: "Hi there,"). Not here: the reply composer and rubric (brand_voice.py).
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

NAMES = ["Maria", "Tom", "Aisha", "Ken", "Lena", "Omar", "Priya", "Jonas", "Chloe", "Diego", "Hannah", "Yusuf",
         "Sofia", "Liam", "Mei", "Carlos", "Fatima", "Noah", "Elena", "Sam", "Ines", "Marco", "Grace", "Tariq",
         "Nadia", "Peter", "Zoe", "Ravi", "Anna", "Felix",
         # accented and non-English spellings: the greeting copies them exactly
         "Renée", "Björn", "Agnès", "Małgorzata", "Tomás", "Aoife", "Jürgen", "Çağla", "Thảo", "Søren", "Begoña",
         "Dvořák", "Ngozi", "Maël", "Oğuz", "Eithne", "Ramón", "Željko"]
HELDOUT_NAMES = ["Beatriz", "Kwame", "Olga", "Hiro", "Lucy", "Matteo", "Amara", "Ben", "Anaïs", "Grzegorz", "Ólöf"]


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One customer problem: how customers say it (in several registers), what the reply names and does."""

    says: tuple[str, ...]   # first-person statements, e.g. "I was charged twice for one purchase"
    terse: str              # e.g. "charged twice"
    problem: str            # what the reply calls it, e.g. "being charged twice"
    action: str             # what Lumen Care does, e.g. "refund the duplicate charge to your account"


@dataclass(frozen=True, kw_only=True)
class Message:
    user: str
    first_name: str | None
    problems: tuple[str, ...]
    actions: tuple[str, ...]
    register: str


OPENERS = {
    "polite": ["Hello, I hope you can help.", "Good morning.", "Hi there, quick question.", "Hello Lumen team,", ""],
    "angry": ["This is ridiculous.", "I am absolutely furious.", "Unbelievable.", "Third time I'm writing about this!",
              "Your bank is a joke.", "I've had enough."],
    "rambling": ["So I was at the shops yesterday with my daughter, and long story short,",
                 "I don't usually write in, but after the week I've had,", "Sorry, this might be a long one. Basically,"],
}
CLOSERS = {
    "polite": ["Thank you for your help.", "Many thanks.", "Kind regards.", "Thanks in advance.", ""],
    "angry": ["Sort it out now.", "I want this fixed today or I'm leaving.", "Don't make me call again.",
              "Someone needs to answer for this.", "Fix it."],
    "rambling": ["Anyway, sorry for the essay, I just want it sorted.", "I hope that all makes sense.",
                 "That's about it, I think."],
}
FRAMES = ['Customer {name} writes: "{message}" Respond.', 'Reply to {name}: "{message}"', "Message from {name}:\n{message}",
          'New ticket from {name}: "{message}"', "{message}"]
FRAMES_NO_NAME = ['A customer writes: "{message}" Respond.', "Customer message:\n{message}", 'Ticket: "{message}"',
                  "{message}", "{message}", "{message}"]


def _capital(text: str) -> str:
    return text[0].upper() + text[1:]


def _sign(message: str, name: str, rng: random.Random) -> str:
    return message + rng.choice([f"\n\n{name}", f" - {name}", f"\nThanks, {name}", f"\nRegards,\n{name}"])


def customer_message(problems: list[Problem], rng: random.Random, names: list[str]) -> Message:
    """One message about one or more problems in a random register, framed with or without the sender's name."""
    register = rng.choice(["polite", "polite", "angry", "terse", "caps", "texting", "rambling", "formal"])
    says = [_capital(rng.choice(p.says)) for p in problems]
    if register == "terse":
        body = ". ".join(p.terse for p in problems) + rng.choice([".", "", ". why", ". fix it", "?", ". now."])
    elif register == "caps":
        body = (" AND ".join(says) + rng.choice(["!!!", ". FIX IT.", "!! WHY?"])).upper()
    elif register == "texting":
        body = " & ".join(s.lower() for s in says) + rng.choice([" pls help", " 🙄", " ?? thx", " asap pls"])
    elif register == "formal":
        body = ("I am writing to raise a formal complaint. " + " Furthermore, ".join(s + "." for s in says)
                + " I expect a written response.")
    else:
        joined = ". Also, ".join(says) + "."
        body = " ".join(p for p in (rng.choice(OPENERS[register]), joined, rng.choice(CLOSERS[register])) if p)
    name = None if rng.random() < 0.25 else rng.choice(names)
    signed = name is not None and rng.random() < 0.4
    text = _sign(body, name, rng) if signed else body
    frame = rng.choice(FRAMES_NO_NAME if name is None or signed else FRAMES[:-1])
    return Message(user=frame.format(name=name, message=text), first_name=name,
                   problems=tuple(p.problem for p in problems), actions=tuple(p.action for p in problems), register=register)


def unseen_rows(rows: list[dict[str, str]], count: int = 25, seed: int = 2027) -> set[int]:
    """The data-row indices bench/unseen/skills/brand_voice_messages.jsonl quotes, by its README's stratified recipe.

    Rebuilt from the CSV, not read from the unseen file: rows grouped by category, categories sorted,
    each group shuffled with one Random(seed) in that order, one row per category in turn until count.
    """
    groups: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        groups.setdefault(row["category"], []).append(index)
    rng = random.Random(seed)
    ordered = [groups[name] for name in sorted(groups)]
    for group in ordered:
        rng.shuffle(group)
    taken: list[int] = []
    depth = 0
    while len(taken) < count:
        for group in ordered:
            if depth < len(group) and len(taken) < count:
                taken.append(group[depth])
        depth += 1
    return set(taken)


def load_corpus_messages(csv_path: Path, intents: tuple[str, ...]) -> tuple[dict[str, list[str]], int]:
    """Bitext customer messages of the given intents (in the order given: a set's order changes with the hash
    seed, and so would the dataset), each intent's in file order, never a row the unseen set quotes.

    Returns (messages by intent, how many unseen rows were left out); a text equal to an unseen row's is left out too.
    """
    with csv_path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    unseen = unseen_rows(rows)
    unseen_texts = {" ".join(rows[i]["instruction"].split()) for i in unseen}
    messages: dict[str, list[str]] = {intent: [] for intent in intents}
    for row in rows:
        text = " ".join(row["instruction"].split())
        if row["intent"] in messages and 12 <= len(text) <= 200 and "{{" not in text and text not in unseen_texts:
            messages[row["intent"]].append(text.replace('"', "'"))
    return messages, len(unseen)


def corpus_message(text: str, problem: str, action: str, rng: random.Random, names: list[str]) -> Message:
    name = None if rng.random() < 0.3 else rng.choice(names)
    frame = rng.choice(FRAMES_NO_NAME if name is None else FRAMES[:-1])
    return Message(user=frame.format(name=name, message=text), first_name=name, problems=(problem,), actions=(action,),
                   register="corpus")


__all__ = ["HELDOUT_NAMES", "Message", "NAMES", "Problem", "corpus_message", "customer_message", "load_corpus_messages",
           "unseen_rows"]
