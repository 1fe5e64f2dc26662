"""Fuzz the whole API from its OpenAPI document (schemathesis): never a 500, and every
answer matches the documented schema. Runs on a database of its own (the fuzzer's
writes are committed) against the app served by uvicorn, bounded in examples."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from carto.app import create_app
from carto.settings import Settings
from tests.conftest import serve_in_thread
from tests.scratch_db import scratch_demo_db

EXAMPLES = 12  # per operation; the whole run stays within a couple of minutes


@pytest.fixture(scope="module")
def fuzz_url(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a fresh demo database of its own, served on a free loopback port."""
    app_settings = Settings(
        data_dir=tmp_path_factory.mktemp("fuzz"), secret_key="fuzz-" + "k" * 40,
        rate_limits="off", notifications_worker=False,
    )  # fmt: skip
    with (
        scratch_demo_db(server_url, "carto_fuzz") as url,
        serve_in_thread(create_app(app_settings, db_url=url)) as base,
    ):
        yield base


def fuzz_operation(operation, base_url: str) -> None:  # type: ignore[no-untyped-def]
    """Run bounded Hypothesis examples of one operation; raise on the first failure."""

    @settings(
        max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(operation.as_strategy())
    def run(case):  # type: ignore[no-untyped-def]
        response = case.call(base_url=base_url, timeout=60)
        case.validate_response(
            response,
            checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
        )

    run()


def test_api_never_errors_and_matches_its_schema(fuzz_url: str) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzz_url}/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        try:
            fuzz_operation(operation, fuzz_url)
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.label}: {str(exc)[:600]}")
    assert operations > 40
    assert not failures, "\n\n".join(failures)
