"""Case-shaped tasks for the router's hybrid route, composed from templates that name no law.

A legal case is told as facts about parties (who did what to whom) followed by a request for a legal
analysis ("is this lawful", "what are the obligations", "analyse whether X complied"), in several registers
(a client's own words, a lawyer's file note, a casual message). The templates span housing, work, shopping,
health, data and services, so no one law or domain owns the hybrid route and a case about any ingested law
lands there. The lawyer flow registers these (with its hand-written LEGAL_CASE_EXAMPLES) as its routing
examples. Not here: the examples of the other routes (agents/routing_examples.py).
"""

from __future__ import annotations

import random

# (actor, affected party, the party's possessive): who did something to whom.
PARTIES = (
    ("my landlord", "me", "my"), ("our employer", "us", "our"), ("the company", "a customer", "a customer's"),
    ("a private clinic", "a patient", "a patient's"), ("the school", "my son", "my son's"),
    ("an online shop", "its customers", "its customers'"), ("the airline", "my family", "my family's"),
    ("a letting agent", "an applicant", "an applicant's"), ("my gym", "me", "my"),
    ("a car dealer", "the buyer", "the buyer's"), ("the town council", "residents", "residents'"),
    ("a builder", "the homeowner", "the homeowner's"), ("an app developer", "its users", "its users'"),
    ("the insurer", "my mother", "my mother's"), ("a recruitment agency", "a job seeker", "a job seeker's"),
    ("the hotel", "a guest", "a guest's"),
)
FACTS = (
    "{actor} kept {owner} money for months after the contract ended",
    "{actor} refused to give {party} a copy of the records it holds",
    "{actor} changed the terms of the agreement without telling {party}",
    "{actor} passed {owner} personal details to another firm without asking",
    "{actor} ignored a written complaint from {party} for three months",
    "{actor} ended the arrangement with {party} with no notice and no reason",
    "{actor} charged {party} a fee that was never mentioned before signing",
    "{actor} put up cameras that film {party} all day",
    "{actor} still keeps {owner} documents years after they were needed",
    "{actor} did nothing about a serious defect that {party} reported twice",
    "{actor} lost a file with {owner} personal information and said nothing",
    "{actor} cancelled what {party} had paid for and offered no refund",
    "{actor} made {party} sign a waiver giving up all their rights",
    "{actor} took a decision about {party} by computer alone, with no human review",
)
DETAILS = ("", " last month", " two weeks ago", " despite several reminders",
           " although it had promised in writing not to", " and then threatened to go further")
QUESTIONS = (
    "Is this lawful?", "Was that legal?", "Is that allowed?", "Can they do that?", "Did they break the law?",
    "What are their obligations here?", "What are my rights in this situation?",
    "Analyse whether {actor} complied with the law.", "Advise on the legal position, citing the relevant articles.",
    "Apply the relevant provisions to these facts and conclude.", "Who is in the wrong legally?",
    "Do we have a legal claim?",
)
FRAMES = (
    "{Facts}{detail}. {question}",
    "Facts: {facts}{detail}. {question}",
    "Client matter: {facts}{detail}. {question}",
    "so basically {facts}{detail}... {question_lower}",
    "Here is what happened: {facts}{detail}. {question}",
)
COUNT = 120
_SEED = 17


def composed_cases(count: int = COUNT, *, seed: int = _SEED) -> tuple[str, ...]:
    """`count` distinct case-shaped tasks from the templates; seeded, so every build gets the same ones."""
    rng = random.Random(seed)
    cases: dict[str, None] = {}
    limit = len(PARTIES) * len(FACTS) * len(DETAILS) * len(QUESTIONS) * len(FRAMES)
    while len(cases) < min(count, limit):
        actor, party, owner = rng.choice(PARTIES)
        facts = rng.choice(FACTS).format(actor=actor, party=party, owner=owner)
        question = rng.choice(QUESTIONS).format(actor=actor)
        text = rng.choice(FRAMES).format(Facts=facts[:1].upper() + facts[1:], facts=facts, detail=rng.choice(DETAILS),
                                         question=question, question_lower=question.lower())
        cases.setdefault(text)
    return tuple(cases)
