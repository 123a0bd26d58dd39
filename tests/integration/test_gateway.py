"""The gateway against real Kafka and Redis: every endpoint, every abuse case."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis

from config import Settings
from edge.program_file import load_program
from edge.translate import decode_any
from gateway.app import create_gateway
from gateway.credentials import Credentials, CredentialsFile
from gateway.publisher import Publisher
from localinfra.process import free_port
from loyalty import events as ev
from loyalty import inputs as i
from loyalty.book import Book
from schemas.status import MemberStatus
from streams.projection import RedisMemberProjection
from streams.topic_reader import Record, read_until
from streams.topics import TopicNames, ensure_topics
from tests.integration.gateway_client import CREDENTIALS, PARTNER_KEYS, SERVICE_KEY, Signer

pytestmark = pytest.mark.integration
ACCRUAL = {
    "member_id": "M1",
    "partner_txn_id": "T-1",
    "category": "hotel",
    "amount": "412.50",
    "currency": "EUR",
    "occurred_at": "2026-11-20T18:30:00Z",
}
HOTEL = "/v1/partners/hotel-co/accruals"


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[tuple[Signer, Settings, Any]]:
    settings = settings.model_copy(update={"gateway_burst": 1000, "gateway_rate_per_s": 1000})
    await ensure_topics(settings)
    client = aioredis.from_url(settings.effective_redis_url)
    publisher = Publisher(settings.bootstrap_servers)
    app = create_gateway(
        settings, Credentials(CredentialsFile.model_validate(CREDENTIALS)), client, publisher
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield Signer(http), settings, app
    await publisher.close()
    await client.aclose()


async def topic_values(
    settings: Settings, topic: str, expected: int, wait_s: float = 15
) -> list[dict[str, Any]]:
    def done(records: list[Record]) -> bool:
        return len(records) >= expected

    records = await read_until(settings.bootstrap_servers, [topic], done, wait_s)
    return [orjson.loads(r.value or b"") for r in records]


async def test_a_signed_accrual_is_produced_and_answered_with_its_event_id(gateway: Any) -> None:
    signer, settings, _ = gateway
    response = await signer.post(HOTEL, ACCRUAL)
    assert response.status_code == 202
    assert response.json() == {"status": "accepted", "event_ids": ["pa:hotel-co:T-1"]}
    [event] = await topic_values(settings, TopicNames(settings.namespace).partner_accruals, 1)
    decoded = decode_any(orjson.dumps(event))
    assert isinstance(decoded, i.PartnerAccrual) and decoded.partner_id == "hotel-co"


async def test_a_batch_is_accepted_whole(gateway: Any) -> None:
    signer, settings, _ = gateway
    batch = {
        "accruals": [
            {**ACCRUAL, "partner_txn_id": f"T-{n}", "member_id": f"M{n}"} for n in range(3)
        ]
    }
    response = await signer.post(HOTEL, batch)
    assert response.status_code == 202 and len(response.json()["event_ids"]) == 3
    values = await topic_values(settings, TopicNames(settings.namespace).partner_accruals, 3)
    assert sorted(v["member_id"] for v in values) == ["M0", "M1", "M2"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "-5"}, "amount"),
        ({"amount": "1e30"}, "amount"),
        ({"surprise": 1}, "surprise"),
        ({"points": 10}, "exactly one"),
        ({"member_id": "bad id"}, "member_id"),
        ({"points": 10**12, "amount": None}, "points"),
    ],
)
async def test_invalid_bodies_are_422_with_field_paths(
    gateway: Any, change: dict[str, Any], field: str
) -> None:
    signer, _, _ = gateway
    body = {k: v for k, v in {**ACCRUAL, **change}.items() if v is not None}
    response = await signer.post(HOTEL, body)
    assert response.status_code == 422
    assert field in response.text and "Traceback" not in response.text


async def test_batches_above_the_limit_are_refused(gateway: Any) -> None:
    signer, settings, _ = gateway
    batch = {
        "accruals": [
            {**ACCRUAL, "partner_txn_id": f"T-{n}"} for n in range(settings.gateway_max_batch + 1)
        ]
    }
    assert (await signer.post(HOTEL, batch)).status_code == 422


@pytest.mark.parametrize(
    ("kwargs", "status", "error"),
    [
        ({"raw": b"{not json"}, 400, "malformed_json"),
        ({"headers": {"content-type": "text/plain"}}, 415, "unsupported_media_type"),
        ({"raw": b"x" * 300_000}, 413, "body_too_large"),
        ({"signature": "0" * 64}, 401, "bad_signature"),
        ({"skew": -3600}, 401, "stale_timestamp"),
        ({"skew": 3600}, 401, "stale_timestamp"),
        ({"key": ("nobody", "whatever-secret-0123456789-0123456789")}, 401, "bad_signature"),
        ({"key": PARTNER_KEYS["car-co"]}, 403, "partner_mismatch"),
        ({"key": SERVICE_KEY}, 403, "forbidden"),
        ({"headers": {"x-loyalty-timestamp": "yesterday"}}, 401, "bad_timestamp"),
    ],
)
async def test_abuse_gets_a_clear_4xx_and_no_credit(
    gateway: Any, kwargs: dict[str, Any], status: int, error: str
) -> None:
    signer, settings, _ = gateway
    response = await signer.post(HOTEL, ACCRUAL, **kwargs)
    assert (response.status_code, response.json()["error"]) == (status, error)
    assert (
        await topic_values(settings, TopicNames(settings.namespace).partner_accruals, 1, wait_s=1)
        == []
    )


async def test_unsigned_requests_are_401(gateway: Any) -> None:
    signer, _, _ = gateway
    response = await signer.client.post(
        HOTEL, content=orjson.dumps(ACCRUAL), headers={"content-type": "application/json"}
    )
    assert response.status_code == 401


async def test_a_replayed_request_is_refused(gateway: Any) -> None:
    signer, _, _ = gateway
    first = await signer.post(HOTEL, ACCRUAL)
    again = await signer.client.post(
        HOTEL, content=first.request.content, headers=dict(first.request.headers)
    )
    assert again.status_code == 409 and again.json()["error"] == "replayed_request"


async def test_idempotent_retries_return_the_original_response_and_credit_once(
    gateway: Any,
) -> None:
    signer, settings, _ = gateway
    key = {"idempotency-key": "retry-42"}
    first = await signer.post(HOTEL, ACCRUAL, headers=key)
    second = await signer.post(HOTEL, ACCRUAL, headers=key)
    exact = await signer.client.post(
        HOTEL, content=first.request.content, headers=dict(first.request.headers)
    )
    assert first.status_code == second.status_code == exact.status_code == 202
    assert first.json() == second.json() == exact.json()
    assert second.headers["idempotent-replayed"] == "true"
    other_body = await signer.post(HOTEL, {**ACCRUAL, "amount": "1.00"}, headers=key)
    assert other_body.status_code == 422
    # A retry without the key (signed anew) is still one credit: the event id follows the
    # partner transaction id.
    assert (await signer.post(HOTEL, ACCRUAL, skew=1)).status_code == 202
    values = await topic_values(
        settings, TopicNames(settings.namespace).partner_accruals, 3, wait_s=3
    )
    assert len(values) == 2
    # End to end through the rulebook: whatever reached Kafka credits the member once.
    book = Book(load_program("programs/airline.yaml"))
    book.handle(i.Enrol("enrol", "M1", i_at(), i_at().date()))
    credits = []
    for value in values:
        outcome = book.handle(decode_any(orjson.dumps(value)))
        credits += [e for _, e in outcome.events if isinstance(e, ev.PointsCredited)]
    assert len(credits) == 1 and credits[0].posting.points == 1237  # 412.50 x 3, rounded down


def i_at() -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 1, 1, tzinfo=UTC)


async def test_the_rate_limit_answers_429_with_retry_after(gateway: Any) -> None:
    signer, settings, app = gateway
    app.state.gateway.settings = settings.model_copy(
        update={"gateway_burst": 2, "gateway_rate_per_s": 0.1}
    )
    statuses = []
    for n in range(4):
        response = await signer.post(
            HOTEL, {**ACCRUAL, "partner_txn_id": f"R{n}"}, key=PARTNER_KEYS["hotel-co"]
        )
        statuses.append(response.status_code)
    assert statuses[:2] == [202, 202] and statuses[-1] == 429
    assert int(response.headers["retry-after"]) >= 1


async def test_kafka_unreachable_is_503_and_nothing_is_written(settings: Settings) -> None:
    client = aioredis.from_url(settings.effective_redis_url)
    publisher = Publisher(f"127.0.0.1:{free_port()}", timeout_s=2)
    app = create_gateway(
        settings, Credentials(CredentialsFile.model_validate(CREDENTIALS)), client, publisher
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as http:
        signer = Signer(http)
        response = await signer.post(HOTEL, ACCRUAL, headers={"idempotency-key": "k1"})
        assert response.status_code == 503 and response.json()["error"] == "kafka_unavailable"
        assert response.headers["retry-after"]
        ready = await http.get("/readyz")
        assert ready.status_code == 503 and ready.json()["kafka"] is False
    await publisher.close()
    await client.aclose()


COMMANDS = [
    ("redemptions", {"command_id": "rd-1", "points": 2500, "reward": "upgrade"}, "redeem"),
    (
        "transfers",
        {"command_id": "tr-1", "to_member_id": "M2", "points": 1000},
        "transfer_points",
    ),
    (
        "status-matches",
        {"competitor": "oceanic", "competitor_tier": "gold", "evidence_ref": "scan-1"},
        "status_match_request",
    ),
    (
        "retro-claims",
        {
            "flight": {
                "booking_ref": "ABC123",
                "carrier": "SK",
                "flight_number": "1415",
                "origin": "CPH",
                "destination": "LHR",
                "flight_date": "2026-10-01",
                "distance_miles": 609,
                "fare_class": "Y",
                "cabin": "economy",
                "base_fare": "120",
                "currency": "EUR",
            }
        },
        "retro_claim",
    ),
    (
        "hold-decisions",
        {
            "command_id": "hd-1",
            "hold_id": "pa:card-co:T-9/hold",
            "decision": "reject",
            "reason": "suspected fraud",
            "operator_id": "agent-7",
        },
        "hold_decision",
    ),
    (
        "adjustments",
        {"command_id": "adj-1", "points": -300, "reason": "duplicate credit", "operator_id": "a-7"},
        "manual_adjustment",
    ),
]


@pytest.mark.parametrize(("path", "body", "kind"), COMMANDS)
async def test_member_commands_go_to_the_commands_topic(
    gateway: Any, path: str, body: dict[str, Any], kind: str
) -> None:
    signer, settings, _ = gateway
    response = await signer.post(f"/v1/members/M1/{path}", body, key=SERVICE_KEY)
    assert response.status_code == 202
    [event] = await topic_values(settings, TopicNames(settings.namespace).member_commands, 1)
    assert event["type"] == kind and event["member_id"] == "M1"
    assert event["event_id"] == response.json()["event_ids"][0]
    assert isinstance(decode_any(orjson.dumps(event)), i.Input)


async def test_commands_need_service_credentials_and_adjustments_a_reason(gateway: Any) -> None:
    signer, _, _ = gateway
    redeem = {"command_id": "rd-2", "points": 10, "reward": "x"}
    assert (await signer.post("/v1/members/M1/redemptions", redeem)).status_code == 403
    no_reason = {"command_id": "adj-2", "points": 100, "reason": "  ", "operator_id": "a"}
    response = await signer.post("/v1/members/M1/adjustments", no_reason, key=SERVICE_KEY)
    assert response.status_code == 422 and "reason" in response.text
    no_operator = {"command_id": "adj-3", "points": 100, "reason": "goodwill"}
    assert (
        await signer.post("/v1/members/M1/adjustments", no_operator, key=SERVICE_KEY)
    ).status_code == 422


async def test_member_lookup_reads_the_read_model(gateway: Any) -> None:
    signer, settings, _ = gateway
    assert (await signer.get("/v1/members/M77", key=SERVICE_KEY)).status_code == 404
    client = aioredis.from_url(settings.effective_redis_url)
    await RedisMemberProjection(client, settings.namespace).apply(
        [MemberStatus(member_id="M77", points=1234, version=3, last_event_id="e9")]
    )
    await client.aclose()
    response = await signer.get("/v1/members/M77", key=SERVICE_KEY)
    assert response.status_code == 200
    assert response.json()["balances"]["redeemable"] == 1234
    assert response.json()["version"] == 3
    assert (await signer.get("/v1/members/M77")).status_code == 403  # partner key


async def test_health_readiness_metrics_and_openapi(gateway: Any) -> None:
    signer, _, _ = gateway
    http = signer.client
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"kafka": True, "redis": True}
    await signer.post(HOTEL, ACCRUAL)
    metrics = (await http.get("/metrics")).text
    assert "gateway_requests_total" in metrics and "gateway_accepted_events_total" in metrics
    spec = (await http.get("/openapi.json")).json()
    body = spec["paths"][HOTEL.replace("hotel-co", "{partner_id}")]["post"]["requestBody"]
    assert "examples" in str(body)


async def test_secrets_never_appear_in_responses_or_logs(
    gateway: Any, caplog: pytest.LogCaptureFixture
) -> None:
    signer, _, _ = gateway
    caplog.set_level("INFO", logger="loyalty.gateway.access")
    await signer.post(HOTEL, ACCRUAL, signature="f" * 64)
    await signer.post(HOTEL, ACCRUAL)
    text = caplog.text + str(await asyncio.sleep(0, result=""))
    for _, secret in [*PARTNER_KEYS.values(), SERVICE_KEY]:
        assert secret not in text
    assert '"key_id":"hotel-key-1"' in caplog.text
