"""The `legal-reasoner` demo skill: RAFT-style IRAC examples over the project's own demo law.

The corpus is the Northwind Tenancy and Data Code in demo/docs (the documents `make demo` ingests),
read with the project's own loaders and chunker, so articles look exactly like the retrieved
chunks the hybrid flow passes to the skill. Holds one set of case patterns per article (facts,
the sentence to quote, application, conclusion; the third of each article is held out), the
seeded generator, and the scorer (gold-article recall, citation precision, the graph's citation gate,
the Conclusion's verdict). Each example shows the relevant articles among BM25-retrieved distractors,
best first by the embedder (as the hybrid flow orders retrieved articles), and an analysis that cites
and quotes only the relevant ones. Prompts come from the graph's own IRAC prompt
(`skillstack.agents.lawyer.prompts.legal_reasoner_messages`). The cases written under other codes,
which the generator mixes in, live in legal_records.py. Not here: training and evaluation (build.py).
"""

from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillstack.agents.lawyer.citations import cited_articles
from skillstack.agents.lawyer.flow import articles_for_prompt
from skillstack.agents.lawyer.gate import check_citations
from skillstack.agents.lawyer.prompts import IRAC_SYSTEM, legal_reasoner_messages
from skillstack.errors import DatasetError
from .legal_records import by_relevance, record_example, training_records, tuning_items

NAME = "legal-reasoner"
SYSTEM_PROMPT = IRAC_SYSTEM
CODE_FILES = ("northwind-code-tenancy.md", "northwind-code-data.html")
ROUTING_EXAMPLES = [
    "Analyse this case: my landlord kept my whole deposit for five weeks without any list of deductions. Was that lawful?",
    "Legal case: the letting agent reported a data breach to the Commissioner ten days after discovering it. Did they break the law?",
    "Write an IRAC analysis of these facts: the heating broke in January and the landlord took five days to repair it.",
    "Does the landlord violate the Code by entering the flat at night without notice? Apply the relevant articles.",
    "A landlord refused a tenant's request for a copy of her personal data. Give me a legal analysis with citations.",
    "Case facts: after I asked for repairs, my landlord served a notice with no reason and changed the locks. What follows?",
    "Assess the legal position: the rent was raised twice in one year with one week's notice each time.",
    "Under the tenancy code, could the agent ask an applicant for twelve months of bank statements and health details?",
    "Legal question on these facts: a tenant gave one week's notice to leave a monthly periodic tenancy.",
    "Apply the law to this scenario and conclude: the landlord kept a rejected applicant's file for two years.",
    "Issue, rule, application, conclusion for this dispute: a tenant fleeing domestic violence gave 14 days' notice.",
    "Is the landlord liable for never giving the tenant a written tenancy agreement? Analyse with the relevant articles.",
]


@dataclass(frozen=True, kw_only=True)
class Case:
    """One fact pattern under one article; {landlord} and {tenant} are filled per example."""

    facts: str
    quote: str  # verbatim words of the article that decide the case
    application: str
    conclusion: str
    complied: bool  # the verdict the Conclusion opens with: the party complied with the article, or did not
    party: str = "{landlord}"  # whose conduct the article governs


# Per article: the issue ("Whether {landlord} ..."), then [case, case, held-out case].
CASES: dict[str, tuple[str, list[Case]]] = {
    "3": ("gave {tenant} the written tenancy agreement the Code requires", [
        Case(facts="{tenant} moved into a flat let by {landlord} in March. Three months later {tenant} still has no written tenancy agreement, although {tenant} asked for one.",
             quote="shall give the tenant a written tenancy agreement, signed by both parties, no later than the day on which the tenant moves in",
             application="No written agreement was given by the day {tenant} moved in, so {tenant} may withhold rent from the second rent period until it is provided.",
             conclusion="{landlord} breached the duty to give a written agreement.", complied=False),
        Case(facts="{landlord} and {tenant} signed a written tenancy agreement stating the rent, the deposit and an emergency repair contact the day before {tenant} moved in.",
             quote="The agreement shall state the rent, the rent period, the amount of any deposit",
             application="The agreement was written, signed by both and given before the move-in day, with the required terms.",
             conclusion="{landlord} complied with the duty to give a written agreement.", complied=True),
        Case(facts="{tenant} rents a house from {landlord} under an oral agreement only. {landlord} has refused to put anything in writing for six months.",
             quote="shall give the tenant a written tenancy agreement, signed by both parties, no later than the day on which the tenant moves in",
             application="No written agreement was given by the move-in day, so {tenant} may withhold rent from the second rent period until it is provided.",
             conclusion="{landlord} breached the duty to give a written agreement.", complied=False),
    ]),
    "4": ("handled {tenant}'s deposit as the Code requires", [
        Case(facts="{landlord} took a deposit of six weeks' rent from {tenant} and never lodged it with the Northwind Deposit Protection Scheme.",
             quote="A deposit shall not exceed the equivalent of four weeks' rent",
             application="Six weeks' rent exceeds the four-week cap, and the deposit was not lodged within 14 days.",
             conclusion="{landlord} breached the deposit rules; the Tribunal must order repayment and may add a penalty of up to three times the deposit.", complied=False),
        Case(facts="{tenant} returned the keys to {landlord} on 1 May. On 8 May {landlord} returned most of the deposit with an itemised list of deductions for a broken door recorded in the signed check-in inventory.",
             quote="return the undisputed part and give the tenant a written, itemised list of the deductions proposed",
             application="The undisputed part came back with an itemised list after 7 days, within 10 days, and the deduction is for damage shown in the inventory.",
             conclusion="{landlord} complied with the deposit rules.", complied=True),
        Case(facts="When {tenant}'s tenancy ended, {landlord} kept the whole deposit for five weeks without any list of deductions, saying the flat needed repainting after normal use.",
             quote="Deductions may be made only for unpaid rent, and for damage beyond fair wear and tear",
             application="Five weeks is beyond 10 days, no itemised list was given, and repainting after normal use is fair wear and tear.",
             conclusion="{landlord} breached the deposit rules.", complied=False),
        # More training patterns (after the held-out third): keeping a deposit with no list, and a full, timely return.
        Case(facts="{tenant} handed the keys back to {landlord} a month ago. {landlord} still holds the entire deposit and has sent {tenant} no list of deductions.",
             quote="return the undisputed part and give the tenant a written, itemised list of the deductions proposed",
             application="A month is more than 10 days, nothing was returned and no itemised list of deductions was given, so {landlord} is still holding the deposit unlawfully.",
             conclusion="{landlord} breached the deposit rules; {tenant} can ask the Tribunal for repayment and a penalty.", complied=False),
        Case(facts="Four days after {tenant} returned the keys, {landlord} paid the whole deposit back into {tenant}'s account.",
             quote="the landlord shall return the deposit in full",
             application="The full deposit came back after 4 days, within the 10 days allowed, so no list of deductions was needed.",
             conclusion="{landlord} complied with the deposit rules.", complied=True),
    ]),
    "5": ("could increase {tenant}'s rent", [
        Case(facts="{landlord} raised {tenant}'s rent in January and again in June of the same year, each time with one week's notice by text message.",
             quote="Rent may be increased no more than once in any period of 12 months",
             application="There were two increases within 12 months, each with one week's notice instead of two months' written notice.",
             conclusion="{landlord} breached the rules on rent increases.", complied=False),
        Case(facts="{landlord} gave {tenant} a letter on 1 February stating a new rent from 1 May. The last increase was two years earlier.",
             quote="at least two months' written notice of a rent increase",
             application="Written notice of three months was given and there was no other increase within 12 months.",
             conclusion="The rent increase is valid.", complied=True),
        Case(facts="{landlord} emailed {tenant} that the rent would rise by 15 percent from next month, three weeks away.",
             quote="at least two months' written notice of a rent increase",
             application="Three weeks is less than two months' notice.",
             conclusion="The increase cannot take effect on that date.", complied=False),
    ]),
    "6": ("made the repairs in time", [
        Case(facts="The heating in {tenant}'s flat broke in January. {tenant} reported it to {landlord} that morning, and {landlord} sent a technician five days later.",
             quote="shall be made within 24 hours of the tenant reporting them",
             application="A heating failure is an urgent repair, and five days is far beyond 24 hours.",
             conclusion="{landlord} breached the repair duty.", complied=False),
        Case(facts="{tenant} reported a dripping kitchen tap to {landlord} in writing, and {landlord}'s plumber fixed it nine days later.",
             quote="Other repairs shall be made within a reasonable time, and in any event within 14 days",
             application="A dripping tap is not urgent, and nine days is within 14 days.",
             conclusion="{landlord} met the repair duty.", complied=True),
        Case(facts="{tenant} reported a gas leak to {landlord} on Friday evening. Nobody came until Tuesday, so {tenant} paid a qualified engineer and deducted the invoice, equal to one week's rent, from the rent.",
             quote="shall be made within 24 hours of the tenant reporting them",
             application="A gas leak is urgent and was not repaired within 24 hours, and the deduction stays within two weeks' rent with an invoice.",
             conclusion="{landlord} breached the repair duty, and the deduction by {tenant} was lawful.", complied=False),
    ]),
    "7": ("could enter {tenant}'s home", [
        Case(facts="{landlord} let themselves into {tenant}'s flat at 10 p.m. without any notice to look at the kitchen. There was no emergency.",
             quote="only after giving the tenant at least 48 hours' written notice stating the purpose of the visit",
             application="There was no notice and no emergency, and the visit was after 8 p.m.",
             conclusion="{landlord} entered unlawfully.", complied=False),
        Case(facts="{landlord} wrote to {tenant} on Monday that an inspection would take place on Thursday at 10 a.m. The last inspection was five months ago.",
             quote="only after giving the tenant at least 48 hours' written notice stating the purpose of the visit",
             application="Written notice of more than 48 hours stated the purpose, the visit was between 8 a.m. and 8 p.m., and more than three months had passed since the last inspection.",
             conclusion="The entry by {landlord} was lawful.", complied=True),
        Case(facts="{landlord} inspected {tenant}'s flat every month, each time with only a phone call the same morning.",
             quote="Inspections shall take place no more than once every three months",
             application="Monthly inspections exceed once every three months, and a same-day call is not 48 hours' written notice.",
             conclusion="{landlord} breached the rules on entry.", complied=False),
    ]),
    "8": ("was bound by the notice {tenant} gave to leave", [
        Case(facts="{tenant} has a monthly periodic tenancy with {landlord} and gave one week's written notice to leave.",
             quote="written notice of at least one month, or of one rent period where that is longer",
             application="One week is less than one month's notice.",
             conclusion="The notice from {tenant} was too short to end the tenancy on that date.", complied=False, party="{tenant}"),
        Case(facts="{tenant} fled domestic violence and gave {landlord} 14 days' written notice with a copy of a protection order.",
             quote="may end any tenancy by giving 14 days' written notice together with a protection order",
             application="{tenant} gave 14 days' written notice with a protection order.",
             conclusion="{tenant} ended the tenancy lawfully.", complied=True, party="{tenant}"),
        Case(facts="Eight months into a two-year fixed term, {tenant} gave {landlord} two months' written notice to leave early.",
             quote="by giving two months' written notice after the first six months of the term have passed",
             application="More than six months of the term had passed and two months' written notice was given.",
             conclusion="{tenant} may end the fixed-term tenancy early.", complied=True, party="{tenant}"),
    ]),
    "9": ("lawfully ended {tenant}'s tenancy", [
        Case(facts="After {tenant} asked for a broken boiler to be repaired, {landlord} served a notice to leave that gave no reason. A month later {landlord} changed the locks.",
             quote="Only the Tenancy Tribunal may order a tenant to leave",
             application="A notice with no ground, given after a repair request, is void, and changing the locks to force {tenant} out is an offence.",
             conclusion="{landlord} did not lawfully end the tenancy and committed an offence.", complied=False),
        Case(facts="{landlord} wants to sell the house and gave {tenant}, who has lived there for two years, a written notice stating that ground and giving three months.",
             quote="shall give written notice stating the ground relied on and of at least two months",
             application="Sale is a permitted ground, it was stated, and three months exceeds the two months required for a tenant of two years.",
             conclusion="The notice from {landlord} is valid.", complied=True),
        Case(facts="{tenant} has rented from {landlord} for five years. {landlord} gave two months' written notice stating an intention to live in the flat.",
             quote="or of four months where the tenant has lived in the dwelling for more than three years",
             application="The ground is permitted, but after five years the notice must be four months, not two.",
             conclusion="The notice from {landlord} is too short to end the tenancy.", complied=False),
    ]),
    "12": ("could ask {tenant} for that information", [
        Case(facts="Before letting a flat to {tenant}, {landlord} asked for twelve months of bank statements and details of {tenant}'s health conditions.",
             quote="shall not ask for a prospective tenant's bank statements for more than the last three months, health information",
             application="Twelve months of statements exceeds three months, and health information may not be requested.",
             conclusion="{landlord} collected data in breach of the Code.", complied=False),
        Case(facts="{landlord} asked the applicant {tenant} for a passport, proof of the right to rent, three recent payslips and one reference from a previous landlord.",
             quote="proof of identity, proof of the right to rent, evidence of income sufficient to pay the rent, and one reference",
             application="Each item requested is on the permitted list.",
             conclusion="{landlord} collected only permitted data.", complied=True),
        Case(facts="{landlord} required the applicant {tenant} to hand over social media passwords and to state a religion.",
             quote="religious beliefs, nationality beyond the right to rent, or social media passwords",
             application="Social media passwords and religious beliefs may not be requested.",
             conclusion="{landlord} collected data in breach of the Code.", complied=False),
    ]),
    "13": ("told {tenant} what the Code requires about the data", [
        Case(facts="{landlord}'s application form collects the data of applicants such as {tenant} but says nothing about who will receive it or how long it is kept.",
             quote="with whom it will be shared, how long it will be kept",
             application="Applicants are not told with whom the data is shared or how long it is kept.",
             conclusion="{landlord} breached the duty to inform.", complied=False),
        Case(facts="{landlord}'s form tells applicants such as {tenant} who the landlord is, why the data is collected, who receives it, how long it is kept and their rights.",
             quote="who the controller is, why the data is collected",
             application="Every item the Code requires is given in the form.",
             conclusion="{landlord} met the duty to inform.", complied=True),
        Case(facts="{landlord} collected {tenant}'s data by phone and gave no information at all about its use or about {tenant}'s rights.",
             quote="the rights the person has under this Part",
             application="No information was given about the purpose, sharing, retention or rights.",
             conclusion="{landlord} breached the duty to inform.", complied=False),
    ]),
    "14": ("could keep {tenant}'s personal data", [
        Case(facts="{tenant} applied to rent a flat from {landlord} and was turned down two years ago. {landlord} still keeps the application file.",
             quote="shall be deleted within six months of the decision on the application",
             application="{tenant} never became a tenant, and two years is beyond six months after the decision.",
             conclusion="{landlord} breached the retention rule.", complied=False),
        Case(facts="{tenant}'s tenancy with {landlord} ended four years ago, and {landlord} keeps the tenancy file in case of claims.",
             quote="shall be kept for no longer than six years after the tenancy ends",
             application="Four years is within six years after the tenancy ended.",
             conclusion="{landlord} may keep the data.", complied=True),
        Case(facts="{landlord} still holds full records of {tenant}, whose tenancy ended nine years ago, and uses them for marketing.",
             quote="shall be kept for no longer than six years after the tenancy ends",
             application="Nine years exceeds six years after the tenancy ended.",
             conclusion="{landlord} breached the retention rule.", complied=False),
    ]),
    "15": ("answered {tenant}'s access request as the Code requires", [
        Case(facts="{tenant} asked {landlord} for a copy of all personal data held about {tenant}. {landlord} replied after ten weeks and charged a fee of 30 crowns.",
             quote="a copy of that data free of charge",
             application="The copy must be free, and the reply was due within one month, not ten weeks.",
             conclusion="{landlord} breached the right of access.", complied=False),
        Case(facts="{tenant} asked {landlord} for a copy of {tenant}'s personal data, and {landlord} sent it free of charge after three weeks.",
             quote="shall reply to an access request within one month of receiving it",
             application="The free copy came within one month.",
             conclusion="{landlord} respected the right of access.", complied=True),
        Case(facts="{landlord} received an access request from {tenant}, said nothing for six weeks, and then announced an extension without reasons.",
             quote="the person shall be told of the extension and the reasons for it within the first month",
             application="No reply or notice of extension came within the first month, and no reasons were given.",
             conclusion="{landlord} breached the right of access.", complied=False),
    ]),
    "16": ("had to correct or erase {tenant}'s data", [
        Case(facts="{tenant} moved out of a flat let by {landlord} seven years ago and asked for {tenant}'s data to be erased. {landlord} refused without any reason.",
             quote="the right to have personal data about them erased without undue delay",
             application="The data is no longer necessary, and no claim or legal obligation requires it to be kept.",
             conclusion="{landlord} must erase the data.", complied=False),
        Case(facts="{tenant} asked {landlord} to erase the tenancy file while a claim by {tenant} about the deposit is pending before the Tenancy Tribunal.",
             quote="does not apply to data the controller must keep to defend a claim arising from the tenancy",
             application="{landlord} needs the file to defend the pending claim.",
             conclusion="{landlord} may keep the data while the claim lasts.", complied=True),
        Case(facts="The records of {landlord} show the wrong income for {tenant}. {tenant} asked for a correction, and {landlord} ignored it for four months.",
             quote="the right to have inaccurate personal data about them corrected without undue delay",
             application="Ignoring the request for four months is undue delay.",
             conclusion="{landlord} breached the right to rectification.", complied=False),
    ]),
    "17": ("handled the data breach as the Code requires", [
        Case(facts="{landlord} lost a laptop with tenants' passports, including {tenant}'s. {landlord} told the Data Commissioner ten days later and never told the tenants.",
             quote="not later than 72 hours after having become aware of it",
             application="Ten days exceeds 72 hours, and disclosed passports are a high risk, so the tenants had to be told too.",
             conclusion="{landlord} breached the breach notification duties.", complied=False),
        Case(facts="The email account of {landlord} was hacked, exposing {tenant}'s bank details. {landlord} notified the Data Commissioner within a day and wrote to every affected tenant the next morning.",
             quote="shall also inform the persons concerned without undue delay",
             application="The Commissioner was told within 72 hours and the tenants were informed without undue delay.",
             conclusion="{landlord} complied with the breach notification duties.", complied=True),
        Case(facts="An employee of {landlord} emailed {tenant}'s identity documents to the wrong person. {landlord} noticed at once but only recorded it internally and told nobody.",
             quote="such as the disclosure of identity documents or bank details",
             application="Disclosed identity documents are a high risk, so the Commissioner and {tenant} had to be informed.",
             conclusion="{landlord} breached the breach notification duties.", complied=False),
    ]),
}
HELDOUT_VARIANT = 2
TRAIN_VARIANTS = [0, 1, 3, 4]  # every article has 0 and 1; a few have more training patterns
# Articles per prompt: training shows the gold ones plus one distractor (prompt tokens dominate the CPU cost of
# training); held-out prompts show three, as a retriever returning more than the relevant article would.
TRAIN_ARTICLES = 2
HELDOUT_ARTICLES = 3
RENUMBERED_SHARE = 0.5  # training examples whose articles carry random numbers (see build_example)
RECORD_COPIES = 2  # each written record trains twice: with its own article numbers, then renumbered
# Clients often name nobody but themselves ("her landlord still holds the deposit"): a share of the
# landlords go unnamed, so the analysis learns to judge the party the article governs, not the one name given.
LANDLORDS = ["Harbour Lettings", "Greta Holm", "Northgate Homes", "Oskar Lind", "Birchwood Property", "Maple Estates",
             "Ivo Sander", "Quay Street Rentals", "Clara Voss", "Summit Lettings", "the landlord", "the letting agent",
             "the landlord"]
HELDOUT_LANDLORDS = ["Riverside Agents", "Pavel Kostic", "Lantern Lettings"]
TENANTS = ["Anna Berg", "Luis Ortega", "Mia Chen", "Jon Park", "Sara Haddad", "Tim Novak", "Eva Rossi", "Raj Patel",
           "Lea Martin", "Ola Nilsen"]
HELDOUT_TENANTS = ["Nora Kim", "Ivan Petrov", "Amal Saleh", "Kofi Mensah"]


@functools.cache
def code_hits(docs: Path | None = None) -> tuple[dict[str, Any], ...]:
    """The Code's article chunks as retrieved hits (Hit.to_dict() shape), read with the project's loaders and chunker."""
    from skillstack.retrieval.chunking import chunk_text
    from skillstack.retrieval.loaders import load_document

    from skillstack.demo import demo_path

    docs = docs or demo_path("docs")
    hits = []
    for name in CODE_FILES:
        path = docs / name
        if not path.exists():
            raise DatasetError(f"{path}: the demo Code is missing; the legal-reasoner dataset is built from demo/docs")
        for chunk in chunk_text(load_document(path).text, source=f"demo/docs/{name}"):
            if chunk.metadata.get("kind") == "article":
                hits.append({"text": chunk.text, "score": 1.0, "source": chunk.metadata["source"], "metadata": chunk.metadata})
    by_number = {h["metadata"]["article"]: h for h in hits}
    for number, (_, cases) in CASES.items():
        for case in cases:
            if case.quote not in " ".join(by_number[number]["text"].split()):
                raise DatasetError(f"legal case quote {case.quote!r} is not verbatim in Article {number} of the demo Code")
    return tuple(hits)


def _hit(number: str) -> dict[str, Any]:
    return next(h for h in code_hits() if h["metadata"]["article"] == number)


@functools.cache
def _bm25() -> Any:
    import bm25s

    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([h["text"] for h in code_hits()], stopwords="en", show_progress=False), show_progress=False)
    return retriever


def _distractors(facts: str, gold: list[str], rng: random.Random, count: int) -> list[str]:
    """Hard negatives (BM25 over the Code for the facts, as a retriever would rank them), mixed with random articles."""
    import bm25s

    hits = code_hits()
    ids, _ = _bm25().retrieve(bm25s.tokenize([facts], stopwords="en", show_progress=False), k=len(hits), show_progress=False)
    ranked = [hits[int(i)]["metadata"]["article"] for i in ids[0]]
    ranked = [n for n in ranked if n not in gold]
    hard = ranked[: (count + 1) // 2]
    return hard + rng.sample([n for n in ranked if n not in hard], count - len(hard))


def _rule(number: str, quote: str, cited: str) -> str:
    title = _hit(number)["metadata"].get("title", "")
    return f'Article {cited} ({title}) provides that "{quote}" [Article {cited}].'


def _conclusion(case: Case, cited: str) -> str:
    """The verdict first (complied / did not comply, with the article), then the case's consequence."""
    verdict = "complied with" if case.complied else "did not comply with"
    return f"{case.party} {verdict} [Article {cited}]: {case.conclusion[0].lower()}{case.conclusion[1:]}" \
        if not case.conclusion.startswith(case.party) else f"{case.party} {verdict} [Article {cited}]. {case.conclusion}"


def _fill(template: str, fill: dict[str, str]) -> str:
    """The template with its parties filled in, a party opening a sentence capitalised ("The landlord kept ...")."""
    return re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), template.format(**fill))


def _renumbered(hit: dict[str, Any], number: str) -> dict[str, Any]:
    """The hit as if the law numbered it `number` (metadata and heading), text otherwise unchanged."""
    old = hit["metadata"]["article"]
    text = re.sub(rf"^Article {old}\b", f"Article {number}", hit["text"], count=1)
    return hit | {"text": text, "metadata": hit["metadata"] | {"article": number}}


@dataclass(frozen=True, kw_only=True)
class LegalExample:
    messages: list[dict[str, str]]  # system + user prompt, as the graph sends it
    analysis: str                   # the IRAC answer
    gold: list[str]                 # article numbers the analysis must cite
    facts: str
    hits: list[dict[str, Any]]      # the articles in the prompt, gold and distractors, as retrieved hits


def build_example(picks: list[tuple[str, int]], landlord: str, tenant: str, rng: random.Random, *, n_articles: int,
                  renumber: bool = False) -> LegalExample:
    """One RAFT example for the chosen (article, case variant) picks: the gold articles among distractors.

    `renumber` gives the shown articles random numbers (1-99), so the adapter learns to cite the number
    printed in its prompt rather than recall the demo Code's numbering: other laws number differently.
    """
    gold = [number for number, _ in picks]
    cases = [CASES[number][1][variant] for number, variant in picks]
    fill = {"landlord": landlord, "tenant": tenant}
    facts = " ".join(_fill(case.facts, fill) for case in cases)
    shown = gold + _distractors(facts, gold, rng, max(1, n_articles - len(gold)))
    rng.shuffle(shown)
    numbers = dict(zip(shown, map(str, rng.sample(range(1, 100), len(shown))))) if renumber else {n: n for n in shown}
    hits = by_relevance(facts, [_renumbered(_hit(number), numbers[number]) for number in shown])
    issue = f"Whether {landlord} " + ", and whether {landlord} ".join(CASES[n][0] for n in gold).format(**fill) + "."
    analysis = "\n".join([
        f"Issue: {issue}",
        "Rule: " + " ".join(_rule(number, case.quote, numbers[number]) for number, case in zip(gold, cases, strict=True)),
        "Application: " + " ".join(_fill(case.application, fill) for case in cases),
        "Conclusion: " + " ".join(_fill(_conclusion(case, numbers[number]), fill) for number, case in zip(gold, cases, strict=True)),
    ])
    return LegalExample(messages=legal_reasoner_messages(facts, articles_for_prompt(hits)), analysis=analysis,
                        gold=[numbers[n] for n in gold], facts=facts, hits=hits)


def _picks(rng: random.Random, variants: list[int]) -> list[tuple[str, int]]:
    numbers = rng.sample(sorted(CASES, key=int), 2 if rng.random() < 0.25 else 1)
    return [(number, rng.choice([v for v in variants if v < len(CASES[number][1])])) for number in numbers]


def generate(seed: int, *, n_train: int, n_heldout: int) -> tuple[list[dict], list[dict], dict]:
    """(train chat examples, held-out items, provenance); held-out cases use fact patterns and parties never trained on.

    Training: the written records under other codes (legal_records.py), each twice (as printed and renumbered),
    and Northwind examples for the rest of n_train. Held-out: n_heldout Northwind items, then the tuning records.
    """
    rng = random.Random(seed)
    records = training_records()
    train = [record_example(row, rng, renumber=copy == 1) for row in records for copy in range(RECORD_COPIES)]
    for _ in range(n_train - len(train)):
        example = build_example(_picks(rng, TRAIN_VARIANTS), rng.choice(LANDLORDS), rng.choice(TENANTS), rng,
                                n_articles=TRAIN_ARTICLES, renumber=rng.random() < RENUMBERED_SHARE)
        train.append({"messages": example.messages + [{"role": "assistant", "content": example.analysis}]})
    rng.shuffle(train)
    heldout = []
    for _ in range(n_heldout):
        example = build_example(_picks(rng, [HELDOUT_VARIANT]), rng.choice(HELDOUT_LANDLORDS), rng.choice(HELDOUT_TENANTS), rng,
                                n_articles=HELDOUT_ARTICLES)
        # The user turn only: the skill's manifest supplies the system prompt at inference. The hits let
        # the graph's citation gate check the answer as it checks retrieved chunks.
        heldout.append({"messages": example.messages[-1:], "gold_articles": example.gold, "facts": example.facts,
                        "hits": example.hits, "reference": example.analysis})
    heldout += tuning_items()
    return train, heldout, {"corpus": "Northwind Tenancy and Data Code (demo/docs, the project's demo law) and cases "
                            "written under twenty other fictional codes (training/demo_skills/cases)",
                            "files": list(CODE_FILES), "case_records": len(records), "record_copies": RECORD_COPIES,
                            "distractors": "BM25 over the Code's article chunks (hard) + random; a record's own articles"}


METRICS = ("gold_recall", "citation_precision", "citation_f1", "irac_format", "gate_passed", "verdict")  # score()'s keys
# The Conclusion's verdict as the trained format writes it ("X did not comply with [Article N]") and as other
# analyses phrase it; the first one on the Conclusion line counts (a negative phrase is tried at each place first).
_NOT_COMPLIED = r"did not comply|has not complied|not complied|failed to comply|breach|violat|unlawful|not lawful|not allowed|cannot|illegal"
_COMPLIED = r"complied|compli(?:es|ant)|lawful|allowed|met (?:the|its|their)|valid"
_VERDICT = re.compile(rf"(?P<no>{_NOT_COMPLIED})|(?P<yes>{_COMPLIED})", re.IGNORECASE)


def verdict_of(text: str) -> str | None:
    """'complied' or 'did not comply' as the analysis's Conclusion line first says it; None without one."""
    line = re.search(r"^Conclusion:(.*)$", text, re.MULTILINE)
    found = _VERDICT.search(line.group(1)) if line else None
    return None if found is None else "did not comply" if found.group("no") else "complied"


def score(item: dict[str, Any], text: str, parsed: Any = None) -> dict[str, float]:
    """Gold-article recall, citation precision (no citation -> 0), their F1, IRAC shape, the citation gate, and
    whether the Conclusion's verdict is the reference's (item "conclusion", else the reference analysis's)."""
    cited = set(cited_articles(text))
    found = len(cited & set(item["gold_articles"]))
    recall = found / len(item["gold_articles"])
    precision = found / len(cited) if cited else 0.0
    parts = all(re.search(rf"^{part}:", text, re.MULTILINE) for part in ("Issue", "Rule", "Application", "Conclusion"))
    return {"gold_recall": recall, "citation_precision": precision,
            "citation_f1": 2 * recall * precision / (recall + precision) if found else 0.0,
            "irac_format": float(parts), "gate_passed": float(check_citations(text, item["hits"], facts=item["facts"]).ok),
            "verdict": float(verdict_of(text) == (item.get("conclusion") or verdict_of(item.get("reference", ""))))}
