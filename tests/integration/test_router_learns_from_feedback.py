"""`skillstack route --feedback`: a misrouted task, corrected once, is routed right by the next router build.

Real embedder, real bundled skills, a home with no store (the router works without one).
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow

TASK = "hmm, the usual thing for Hannah again please"


def test_a_misrouted_task_is_routed_as_the_feedback_said_at_the_next_build(tmp_path, capsys):
    from skillstack.cli.main import main

    home = ["--home", str(tmp_path)]
    assert main([*home, "route", TASK, "--json"]) == 0
    before = json.loads(capsys.readouterr().out)
    # Whatever it decided, the user says otherwise: brand-voice unless that is what it chose.
    target = ("skill", "brand-voice") if before["skill"] != "brand-voice" else ("rag", None)

    command = [*home, "route", "--feedback", target[0], "--json"] + (["--skill", target[1]] if target[1] else [])
    assert main(command) == 0  # no TEXT: the last routed task
    confirmation = json.loads(capsys.readouterr().out)
    assert confirmation["recorded"] is True and confirmation["text"] == TASK
    assert (confirmation["route"], confirmation["skill"]) == target and confirmation["examples"] == 1

    assert main([*home, "route", TASK, "--json"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert (after["route"], after["skill"]) == target
    assert "feedback" in after["reason"]


def test_bad_feedback_is_one_line_on_stderr_and_writes_nothing(tmp_path, capsys):
    from skillstack.agents.route_feedback import FEEDBACK_FILE
    from skillstack.cli.main import main

    home = ["--home", str(tmp_path)]
    assert main([*home, "route", "--feedback", "skill", "--skill", "no-such-skill", "Reply to Ken"]) == 2
    assert main([*home, "route", "--feedback", "rag"]) == 2  # nothing routed yet in this home
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and "no skill 'no-such-skill'" in errors[0] and "no routed task" in errors[1]
    assert not (tmp_path / FEEDBACK_FILE).exists()
