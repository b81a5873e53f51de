"""The lawyer flow's deadline check: periods in facts and rules, and the finding in the reasoner's prompt."""

from agents.lawyer.deadlines import deadline_findings, deadlines, elapsed_periods
from agents.lawyer.prompts import legal_reasoner_messages

RULE = {"article": "4", "text": "2. The landlord shall lodge the deposit within 14 days of receiving it.\n3. Within 10 days after the tenancy ends and the keys are returned, the landlord "
        "shall return the deposit in full or the undisputed part with an itemised list of deductions."}


def test_elapsed_periods_read_words_and_digits_in_every_unit() -> None:
    facts = "She left six weeks ago. He wrote 3 days later. They waited 72 hours, then for two months."
    assert [p.hours for p in elapsed_periods(facts)] == [6 * 168, 3 * 24, 72, 2 * 730]


def test_deadlines_read_within_and_not_later_than() -> None:
    text = "not later than 72 hours; within one month; within 14 days"
    assert [p.text for p in deadlines(text)] == ["72 hours", "1 month", "14 days"]


def test_an_elapsed_period_beyond_the_deadline_is_a_finding() -> None:
    (finding,) = deadline_findings("Ana returned the keys six weeks ago.", [RULE])
    assert finding.sentence() == ("Deadline check: Article 4(3) allows 10 days; the facts give 6 weeks (42 days): "
                                  "the deadline was exceeded.")


def test_no_finding_within_the_deadline_or_for_periods_not_elapsed() -> None:
    assert deadline_findings("Ana returned the keys 3 days ago.", [RULE]) == []
    assert deadline_findings("Ana signed a two-month lease.", [RULE]) == []


def test_the_reasoner_prompt_carries_the_finding_of_an_exceeded_deadline() -> None:
    facts = "Ana returned the keys six weeks ago and the landlord still holds the deposit."
    findings = [f.sentence() for f in deadline_findings(facts, [RULE])]
    user = legal_reasoner_messages(facts, [RULE], system=None, findings=findings)[-1]["content"]
    assert "the facts give 6 weeks (42 days): the deadline was exceeded." in user
