"""`create_gateway`: the one wiring place of the HTTP gateway (settings in, FastAPI app out)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from config import Settings
from gateway.credentials import Credentials
from gateway.publisher import Publisher
from gateway.security import Refused
from gateway.stores import GatewayStore
from streams.topics import TopicNames

access_log = logging.getLogger("loyalty.gateway.access")
log = logging.getLogger("loyalty.gateway")


@dataclass
class Gateway:
    settings: Settings
    credentials: Credentials
    store: GatewayStore
    publisher: Publisher
    topics: TopicNames
    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    accepted: Counter


def _problem(
    status: int, error: str, detail: object, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps({"error": error, "detail": detail}),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def create_gateway(
    settings: Settings,
    credentials: Credentials,
    redis_client: Any,
    publisher: Publisher | None = None,
) -> FastAPI:
    registry = CollectorRegistry()
    gw = Gateway(
        settings=settings,
        credentials=credentials,
        store=GatewayStore(redis_client, settings.namespace),
        publisher=publisher or Publisher(settings.bootstrap_servers),
        topics=TopicNames(settings.namespace),
        registry=registry,
        requests=Counter(
            "gateway_requests", "HTTP requests", ["route", "status"], registry=registry
        ),
        latency=Histogram(
            "gateway_request_seconds", "request latency", ["route"], registry=registry
        ),
        accepted=Counter(
            "gateway_accepted_events", "events produced to Kafka", ["kind"], registry=registry
        ),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await gw.publisher.close()

    app = FastAPI(
        title="Loyalty gateway",
        version="1",
        description=(
            "Partner accruals, member commands and member lookups. Every /v1 request is "
            "signed: `X-Loyalty-Key-Id`, `X-Loyalty-Timestamp` (Unix seconds) and "
            "`X-Loyalty-Signature` = hex HMAC-SHA256(secret, timestamp + '\\n' + METHOD + "
            "'\\n' + path + '\\n' + body). `Idempotency-Key` makes a retry return the original "
            "response without a second credit."
        ),
        lifespan=lifespan,
    )
    app.state.gateway = gw

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        return _problem(exc.status, exc.error, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return _problem(
            422,
            "invalid_request",
            [
                {"loc": [str(p) for p in err.get("loc", ())], "msg": err.get("msg", "")}
                for err in exc.errors()
            ],
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _problem(exc.status_code, "http_error", exc.detail)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # Logged with its traceback for operators; the client never sees one.
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _problem(500, "internal_error", "unexpected error; it has been logged")

    @app.middleware("http")
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        elapsed = time.perf_counter() - started
        gw.requests.labels(template, str(response.status_code)).inc()
        gw.latency.labels(template).observe(elapsed)
        # Structured, and without secrets or bodies: only the key id names the caller.
        access_log.info(
            orjson.dumps(
                {
                    "method": request.method,
                    "route": template,
                    "path": request.url.path,
                    "status": response.status_code,
                    "ms": round(elapsed * 1000, 2),
                    "key_id": request.headers.get("x-loyalty-key-id", "")[:128],
                    "client": request.client.host if request.client else None,
                }
            ).decode()
        )
        return response

    from gateway.routes import register_routes

    register_routes(app, gw)
    return app


def metrics_response(gw: Gateway) -> Response:
    return Response(generate_latest(gw.registry), media_type="text/plain; version=0.0.4")
