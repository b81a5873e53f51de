"""schemathesis against `skillstack serve`'s own OpenAPI schema: no 500, every answer as the schema says.

A real server on loopback, behind a key, with answers capped at 4 tokens (the --max-tokens-limit a
deployment may set), so examples that reach the base model stay short. Each operation gets a
bounded number of generated requests (valid and invalid); the schema's own examples reach the model.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance  # here in every schemathesis 4.x

from skillstack.settings import load_settings
from skillstack.skills.runtime import get_runtime
from skillstack.skills.server import ServerOptions, create_app
from skillstack.skills.server.auth import KeyRing

from server_fixtures import KEY, running

pytestmark = pytest.mark.slow
HEADERS = {"Authorization": f"Bearer {KEY}"}
MAX_EXAMPLES = 10  # per operation and mode


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory):
    settings = load_settings(tmp_path_factory.mktemp("fuzz-home"))
    get_runtime(settings).engine  # the base model loads once, here, not inside the first fuzzed request
    app = create_app(settings, keys=KeyRing.of([KEY]), options=ServerOptions(max_completion_tokens=4))
    with running(app) as url:
        yield schemathesis.openapi.from_url(url.removesuffix("/v1") + "/openapi.json", headers=HEADERS)


def _check(strategy, max_examples: int) -> None:
    @given(case=strategy)
    @settings(max_examples=max_examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def call(case) -> None:
        # Schema-valid is not always servable: a random `model` is a 404 and a max_tokens over the
        # server's cap a 400, both correct answers, so "valid data must be accepted" cannot hold here.
        case.call_and_validate(headers=HEADERS, excluded_checks=[positive_data_acceptance], timeout=120)

    call()


# schemathesis's own pytest loader (`schemathesis.pytest.from_fixture`) fails on pytest 9 ("'Function'
# object has no attribute '_nodeid'"), so each operation's strategies are driven by hypothesis directly.
@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda mode: mode.value)
def test_the_api_never_answers_500_and_always_answers_as_its_schema_says(api_schema, mode: GenerationMode) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v1/chat/completions", "/v1/embeddings", "/v1/models/{model_id}"}
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not operation.get_request_payload_content_types():
            continue  # a GET without a body has nothing to break but the key, which the other mode's checks try
        _check(operation.as_strategy(generation_mode=mode), MAX_EXAMPLES)


def test_the_schemas_own_examples_are_served(api_schema) -> None:
    for operation in (result.ok() for result in api_schema.get_all_operations()):
        for strategy in api_schema.get_strategies_from_examples(operation):
            _check(strategy, 3)
