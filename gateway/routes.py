"""The gateway's endpoints. Each one: authenticate, rate-limit, check idempotency, validate,
produce to Kafka (acks=all), answer 202 with the event ids."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import FastAPI, Path, Request, Response
from pydantic import BaseModel, TypeAdapter, ValidationError
from redis.exceptions import RedisError

from gateway import models as m
from gateway.app import Gateway, metrics_response
from gateway.credentials import Role
from gateway.publisher import KafkaUnavailable
from gateway.security import Caller, Refused, authenticate, check_replay_and_rate
from schemas import events as w
from streams.projection import from_hash

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{1,100}$")
MemberId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:/\-]+$")]
PartnerId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:/\-]+$")]
Message = tuple[str, bytes, bytes]  # topic, key, value

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": m.Problem, "description": text}
    for code, text in {
        400: "malformed JSON or header",
        401: "missing, stale or invalid signature",
        403: "credentials of another partner or role",
        409: "replayed request or retry in flight",
        413: "body too large",
        415: "not application/json",
        422: "invalid body (field paths)",
        429: "rate limited (Retry-After)",
        503: "Kafka or Redis unavailable: retry",
    }.items()
}


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """Resolve local `$defs` references: in OpenAPI a `#/...` ref points at the document."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    return node


def _body_schema(model: Any) -> dict[str, Any]:
    raw = TypeAdapter(model).json_schema()
    schema = _inline(raw, raw.get("$defs", {}))
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _parse(model: Any, body: bytes) -> Any:
    try:
        if isinstance(model, type) and issubclass(model, BaseModel):
            return model.model_validate_json(body)
        return model.validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if any(e["type"] == "json_invalid" for e in errors):
            raise Refused(400, "malformed_json", "the body is not valid JSON") from None
        raise Refused(
            422,
            "invalid_body",
            [{"loc": [str(p) for p in e["loc"]], "msg": e["msg"]} for e in errors[:50]],
        ) from None


async def _accept(
    request: Request,
    gw: Gateway,
    role: Role,
    build: Callable[[Caller, datetime], tuple[list[Message], str]],
) -> Response:
    s = gw.settings
    try:
        caller = await authenticate(
            request,
            gw.credentials,
            gw.store,
            role,
            s.gateway_max_body_bytes,
            s.gateway_clock_skew_s,
        )
        key = request.headers.get("idempotency-key")
        if key is not None and not IDEMPOTENCY_KEY.match(key):
            raise Refused(400, "bad_idempotency_key", "Idempotency-Key: 1-100 of [A-Za-z0-9_.:-]")
        await check_replay_and_rate(
            caller,
            gw.store,
            s.gateway_clock_skew_s,
            s.gateway_rate_per_s,
            s.gateway_burst,
            idempotent_retry=key is not None,
        )
        scope = f"{caller.principal.role}:{caller.principal.name}:{request.url.path}"
        body_hash = hashlib.sha256(caller.body).hexdigest()
        if key is not None:
            stored = await gw.store.claim(scope, key, body_hash, s.gateway_idempotency_ttl_s)
            if stored is not None:
                if stored.body_hash != body_hash:
                    raise Refused(
                        422,
                        "idempotency_key_reused",
                        "this Idempotency-Key was used with a different body",
                    )
                if stored.response is None:
                    raise Refused(409, "in_progress", "a request with this key is in flight")
                return Response(
                    orjson.dumps(stored.response),
                    status_code=stored.status,
                    media_type="application/json",
                    headers={"Idempotent-Replayed": "true"},
                )
        try:
            messages, kind = build(caller, datetime.now(UTC))
            by_topic: dict[str, list[tuple[bytes, bytes]]] = {}
            for topic, msg_key, value in messages:
                by_topic.setdefault(topic, []).append((msg_key, value))
            for topic, batch in by_topic.items():
                await gw.publisher.publish(topic, batch)
        except (Refused, KafkaUnavailable):
            if key is not None:
                await gw.store.release(scope, key)
            raise
        event_ids = [orjson.loads(value)["event_id"] for _, _, value in messages]
        gw.accepted.labels(kind).inc(len(event_ids))
        answer = m.Accepted(event_ids=event_ids).model_dump()
        if key is not None:
            await gw.store.complete(scope, key, body_hash, 202, answer, s.gateway_idempotency_ttl_s)
        return Response(orjson.dumps(answer), status_code=202, media_type="application/json")
    except KafkaUnavailable as exc:
        raise Refused(
            503, "kafka_unavailable", f"{exc}; nothing was accepted, retry", {"Retry-After": "5"}
        ) from None
    except RedisError:
        raise Refused(
            503,
            "redis_unavailable",
            "the gateway store is unavailable; retry",
            {"Retry-After": "5"},
        ) from None


def _event(model: type[w.Envelope], **fields: Any) -> bytes:
    return model.model_validate(fields).model_dump_json().encode()


def _command_id(caller: Caller, request: Request) -> str:
    key = request.headers.get("idempotency-key")
    if key is None:
        return f"cmd-{uuid.uuid4().hex}"
    scope = f"{caller.principal.name}:{request.url.path}:{key}"
    return "cmd-" + hashlib.sha256(scope.encode()).hexdigest()[:32]


def register_routes(app: FastAPI, gw: Gateway) -> None:
    topics = gw.topics

    @app.post(
        "/v1/partners/{partner_id}/accruals",
        status_code=202,
        response_model=m.Accepted,
        responses=ERRORS,
        openapi_extra=_body_schema(m.AccrualIn | m.AccrualBatchIn),
        summary="Post one accrual or a batch {accruals: [...]}",
    )
    async def post_accruals(partner_id: PartnerId, request: Request) -> Response:
        def build(caller: Caller, now: datetime) -> tuple[list[Message], str]:
            if caller.principal.name != partner_id:
                raise Refused(
                    403,
                    "partner_mismatch",
                    "these credentials may only post under their own partner id",
                )
            parsed = _parse(_ACCRUALS, caller.body)
            accruals = parsed.accruals if isinstance(parsed, m.AccrualBatchIn) else [parsed]
            if len(accruals) > gw.settings.gateway_max_batch:
                raise Refused(
                    422,
                    "batch_too_large",
                    f"at most {gw.settings.gateway_max_batch} accruals per request",
                )
            out: list[Message] = []
            for a in accruals:
                value = _event(
                    w.PartnerAccrual,
                    type="partner_accrual",
                    # Deterministic: a retry can never become a second credit.
                    event_id=f"pa:{partner_id}:{a.partner_txn_id}",
                    member_id=a.member_id,
                    occurred_at=a.occurred_at or now,
                    partner_id=partner_id,
                    partner_txn_id=a.partner_txn_id,
                    category=a.category,
                    amount=a.amount,
                    currency=a.currency,
                    points=a.points,
                )
                out.append((topics.partner_accruals, a.member_id.encode(), value))
            return out, "partner_accrual"

        return await _accept(request, gw, Role.PARTNER, build)

    def command_route(
        path: str,
        body: type[BaseModel],
        kind: str,
        fields: Callable[[Any], dict[str, Any]],
        model: type[w.Envelope],
    ) -> None:
        async def post_command(member_id: MemberId, request: Request) -> Response:
            def build(caller: Caller, now: datetime) -> tuple[list[Message], str]:
                parsed = _parse(body, caller.body)
                value = _event(
                    model,
                    type=kind,
                    event_id=_command_id(caller, request),
                    member_id=member_id,
                    occurred_at=parsed.occurred_at or now,
                    **fields(parsed),
                )
                return [(topics.member_commands, member_id.encode(), value)], kind

            return await _accept(request, gw, Role.SERVICE, build)

        app.add_api_route(
            f"/v1/members/{{member_id}}/{path}",
            post_command,
            methods=["POST"],
            status_code=202,
            response_model=m.Accepted,
            responses=ERRORS,
            openapi_extra=_body_schema(body),
            summary=f"Issue a {kind} command",
            name=f"post_{path.replace('-', '_')}",
        )

    command_route(
        "redemptions",
        m.RedemptionIn,
        "redeem",
        lambda p: {"command_id": p.command_id, "points": p.points, "reward": p.reward},
        w.Redeem,
    )
    command_route(
        "transfers",
        m.TransferIn,
        "transfer_points",
        lambda p: {
            "command_id": p.command_id,
            "to_member_id": p.to_member_id,
            "points": p.points,
        },
        w.TransferPoints,
    )
    command_route(
        "status-matches",
        m.StatusMatchIn,
        "status_match_request",
        lambda p: {
            "competitor": p.competitor,
            "competitor_tier": p.competitor_tier,
            "evidence_ref": p.evidence_ref,
        },
        w.StatusMatchRequest,
    )
    command_route(
        "retro-claims",
        m.RetroClaimIn,
        "retro_claim",
        lambda p: {"flight": p.flight.model_dump()},
        w.RetroClaim,
    )
    command_route(
        "adjustments",
        m.AdjustmentIn,
        "manual_adjustment",
        lambda p: {
            "command_id": p.command_id,
            "points": p.points,
            "reason": p.reason,
            "operator_id": p.operator_id,
        },
        w.ManualAdjustment,
    )
    command_route(
        "hold-decisions",
        m.HoldDecisionIn,
        "hold_decision",
        lambda p: {
            "command_id": p.command_id,
            "hold_id": p.hold_id,
            "decision": p.decision,
            "reason": p.reason,
            "operator_id": p.operator_id,
        },
        w.HoldDecision,
    )

    @app.get(
        "/v1/members/{member_id}",
        response_model=m.MemberView,
        responses=ERRORS,
        summary="A member's tier, class, stage and balances from the read model",
    )
    async def get_member(member_id: MemberId, request: Request) -> Response:
        s = gw.settings
        try:
            caller = await authenticate(
                request,
                gw.credentials,
                gw.store,
                Role.SERVICE,
                s.gateway_max_body_bytes,
                s.gateway_clock_skew_s,
            )
            # Reads change nothing, so an identical re-sent GET is not refused as a replay.
            allowed, wait_s = await gw.store.take_token(
                caller.principal.key_id, s.gateway_rate_per_s, s.gateway_burst
            )
            if not allowed:
                raise Refused(
                    429,
                    "rate_limited",
                    f"retry in {wait_s:.1f}s",
                    {"Retry-After": str(max(1, int(wait_s + 0.999)))},
                )
            fields = await gw.store.member(member_id)
        except RedisError:
            raise Refused(
                503,
                "redis_unavailable",
                "the read model is unavailable; retry",
                {"Retry-After": "5"},
            ) from None
        if fields is None:
            raise Refused(404, "unknown_member", f"no member {member_id}")
        status = from_hash(member_id, fields)
        view = m.MemberView(
            member_id=member_id,
            tier=status.tier,
            class_code=status.class_code,
            lifecycle_stage=status.stage,
            balances=m.Balances(
                redeemable=status.points,
                pending=status.pending,
                qualifying=status.qualifying,
                held=status.held,
                in_flight=status.in_flight,
            ),
            version=status.version,
        )
        return Response(view.model_dump_json(), media_type="application/json")

    @app.get("/healthz", summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz", summary="Kafka and Redis are reachable", responses={503: {"model": m.Problem}}
    )
    async def readyz() -> Response:
        kafka = await gw.publisher.ready()
        try:
            redis = await gw.store.ping()
        except (RedisError, OSError):
            redis = False
        body = {"kafka": kafka, "redis": redis}
        return Response(
            orjson.dumps(body),
            status_code=200 if kafka and redis else 503,
            media_type="application/json",
        )

    @app.get("/metrics", summary="Prometheus metrics")
    async def metrics() -> Response:
        return metrics_response(gw)


_ACCRUALS: TypeAdapter[m.AccrualIn | m.AccrualBatchIn] = TypeAdapter(m.AccrualIn | m.AccrualBatchIn)
