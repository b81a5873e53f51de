"""The lawyer flow's deadline check: periods in facts and rules, and the finding in the reasoner's prompt."""

from agents.lawyer.deadlines import deadline_findings, deadlines, elapsed_periods
from agents.lawyer.prompts import legal_reasoner_messages

RULE = {"article": "4", "text": "2. The landlord shall lodge the deposit within 14 days of receiving it.\n3. Within 10 days after the tenancy ends and the keys are returned, the landlord "
        "shall return the deposit in full or the undisputed part with an itemised list of deductions."}


def test_elapsed_periods_read_words_and_digits_in_every_unit() -> None:
    facts = "She left six weeks ago. He wrote 3 days later. They waited 72 hours. Forty days went by."
    assert [p.hours for p in elapsed_periods(facts)] == [6 * 168, 3 * 24, 72, 40 * 24]


def test_a_duration_is_not_an_elapsed_period() -> None:
    assert elapsed_periods("The gym froze my membership for four months under a two-month notice rule.") == []


def test_the_last_two_dates_of_the_facts_give_an_elapsed_period() -> None:
    facts = "I signed in January 2020. I moved out on 2 March and the money only came back on March 28th."
    (period,) = elapsed_periods(facts)
    assert period.hours == 26 * 24 and period.text == "26 days (2 March to 28 March)"


def test_working_days_count_as_seven_fifths_of_a_day() -> None:
    (deadline,) = deadlines("The employer shall answer within 10 working days.")
    assert deadline.text == "10 working days" and deadline.hours == 14 * 24


def test_deadlines_read_within_and_not_later_than() -> None:
    text = "not later than 72 hours; within one month; within 14 days"
    assert [p.text for p in deadlines(text)] == ["72 hours", "1 month", "14 days"]


def test_an_elapsed_period_beyond_the_deadline_is_a_finding() -> None:
    (finding,) = deadline_findings("Ana returned the keys six weeks ago.", [RULE])
    assert finding.sentence() == ("Deadline check: Article 4(3) allows 10 days; the facts give 6 weeks (42 days): "
                                  "the deadline was exceeded.")


def test_a_period_within_the_deadline_is_a_finding_that_says_so() -> None:
    (finding,) = deadline_findings("Ana returned the keys 3 days ago.", [RULE])
    assert not finding.exceeded and finding.sentence().endswith("within the deadline.")


def test_no_finding_for_periods_not_elapsed_or_deadlines_about_something_else() -> None:
    assert deadline_findings("Ana signed a two-month lease.", [RULE]) == []
    # four months of service against a deadline that governs a death, not a job: nothing governs the facts
    other = {"article": "15", "text": "Bereavement leave must be taken within 4 weeks after the death of a relative."}
    assert deadline_findings("I started my job four months ago and asked for parental leave.", [other]) == []


def test_the_reasoner_prompt_carries_the_finding_of_an_exceeded_deadline() -> None:
    facts = "Ana returned the keys six weeks ago and the landlord still holds the deposit."
    findings = [f.sentence() for f in deadline_findings(facts, [RULE])]
    user = legal_reasoner_messages(facts, [RULE], system=None, findings=findings)[-1]["content"]
    assert "the facts give 6 weeks (42 days): the deadline was exceeded." in user
