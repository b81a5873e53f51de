"""LangChain's standard retriever suite (langchain-tests) on the store's retriever (Retriever.as_langchain)."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import RetrieversIntegrationTests

from standard_parts import store_settings

pytestmark = pytest.mark.slow


class TestSkillstackRetriever(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        from skillstack.retrieval.retriever import Retriever

        return type(Retriever(store_settings()).as_langchain())

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        from skillstack.retrieval.retriever import Retriever

        return {"retriever": Retriever(store_settings())}

    @property
    def retriever_query_example(self) -> str:
        return "How much deposit may a landlord ask for?"
