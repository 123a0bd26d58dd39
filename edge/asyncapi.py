"""The AsyncAPI 3 document of every topic the engine reads or writes (`loyalty schemas export`
writes it beside the JSON Schema files): address, key, partition-count setting, cleanup policy,
payload schema (from the pydantic models in `schemas/`) and one example per message type."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel

from config import Settings
from loyalty.state import MemberState
from schemas import events as wire
from schemas import outputs, status
from schemas.examples import EXAMPLES
from streams import state_codec
from streams.topics import _TOPIC_OF_TYPE, TopicNames

NAMESPACE = "{namespace}"
REF = "#/components/schemas/{model}"
MEMBER_KEY = {"type": "string", "description": "the member id (every topic is co-partitioned)"}
NO_KEY = {"type": "null", "description": "no key: sent to a chosen partition"}
STATE_KEY = {
    "type": "string",
    "description": "`m:<member id>` (a member's state) or `r:<partition>` (a partition's marks "
    "and positions)",
}
_STATE_SCHEMA: dict[str, Any] = {
    "type": "string",
    "contentEncoding": "base64",
    "description": "Internal to the engine: JSON written by streams/state_codec.py, "
    "zlib-compressed when over 16 KB (bytes on the topic; base64 here); not a contract for "
    "other consumers.",
}
DEFAULT_PARTITIONS: int = Settings.model_fields["partitions"].default
PARTITIONS = (
    f"LOYALTY_PARTITIONS (default {DEFAULT_PARTITIONS}): every topic has this many partitions, "
    "so a member's inputs, state and outputs meet in one partition"
)
_EXCHANGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Internal to the engine (follow-ups between partitions, clock seals, grading "
    "histograms); not a contract for other consumers.",
    "required": ["k", "from"],
    "properties": {
        "k": {"enum": ["follow_up", "seal", "histograms"]},
        "from": {"type": "integer", "description": "the sending partition"},
    },
}


def _models() -> dict[str, type[BaseModel]]:
    """Message name -> payload model, for every message with a pydantic model."""
    models: dict[str, type[BaseModel]] = {}
    for model in (*wire.EXTERNAL_MODELS, *wire.INTERNAL_MODELS):
        models[model.model_fields["type"].annotation.__args__[0]] = model  # type: ignore[union-attr]
    for change in outputs.MEMBER_EVENT_MODELS:
        for kind in change.model_fields["type"].annotation.__args__:  # type: ignore[union-attr]
            models[kind] = change
    models["ledger_posting"] = outputs.LedgerPosting
    models["member_status"] = status.MemberStatus
    models["ops_rejected"] = status.OpsRecord
    models["ops_alert"] = status.OpsAlert
    models["ops_grading"] = status.OpsGrading
    models["ops_progress"] = status.OpsProgress
    models["ops_metrics"] = status.OpsMetrics
    models["dead_letter"] = status.DeadLetter
    return models


MODELS = _models()


def _channels(names: TopicNames) -> list[dict[str, Any]]:
    by_topic: dict[str, list[str]] = {}
    for kind, base in _TOPIC_OF_TYPE.items():
        if kind != "clock":
            by_topic.setdefault(base, []).append(kind)
    inputs = [
        {
            "id": base,
            "address": getattr(names, attr),
            "messages": [*by_topic[base], "clock"],
            "key": MEMBER_KEY,
            "direction": "send",
            "description": f"Input: {', '.join(by_topic[base])}. Clock ticks are copied onto "
            "every partition of every input topic (the partition's event-time watermark).",
        }
        for base, attr in (
            ("member-commands", "member_commands"),
            ("purchases", "purchases"),
            ("flights", "flights"),
            ("partner-accruals", "partner_accruals"),
        )
    ]
    member_events = sorted(k for k, m in MODELS.items() if m in outputs.MEMBER_EVENT_MODELS)
    return [
        *inputs,
        {
            "id": "clock",
            "address": names.clock,
            "messages": ["clock"],
            "key": NO_KEY,
            "direction": "send",
            "description": "Clock ticks from `loyalty clock` (the scheduler); the latest tick "
            "on partition 0 is where a restarted scheduler resumes.",
        },
        {
            "id": "partition-exchange",
            "address": names.exchange,
            "messages": ["exchange_follow_up", "exchange_seal", "exchange_histograms"],
            "key": NO_KEY,
            "direction": "internal",
            "description": "Internal: between the engine's partitions.",
        },
        {
            "id": "member-state",
            "address": names.member_state,
            "messages": ["member_state"],
            "key": STATE_KEY,
            "direction": "internal",
            "compacted": True,
            "description": "Internal: the engine's changelog, written once per changed member "
            "per checkpoint and read back when a worker takes a partition over.",
        },
        {
            "id": "ledger-postings",
            "address": names.ledger,
            "messages": ["ledger_posting"],
            "key": MEMBER_KEY,
            "direction": "receive",
            "description": "Every ledger posting, in the order applied per member.",
        },
        {
            "id": "member-status",
            "address": names.member_status,
            "messages": ["member_status"],
            "key": MEMBER_KEY,
            "compacted": True,
            "direction": "receive",
            "description": "The latest status of each member (compacted; keep the highest "
            "`version`); the Redis read model is projected from it.",
        },
        {
            "id": "member-events",
            "address": names.member_events,
            "messages": member_events,
            "key": MEMBER_KEY,
            "direction": "receive",
            "description": "Member status changes: tier, class, lifecycle stage, status "
            "match, retention offers and barriers, adjustments and holds.",
        },
        {
            "id": "ops",
            "address": names.ops,
            "messages": ["ops_rejected", "ops_alert", "ops_grading", "ops_progress", "ops_metrics"],
            "key": {"type": ["string", "null"], "description": "the member id, when there is one"},
            "direction": "receive",
            "description": "For operators: rejections and duplicates with their reason, "
            "alerts, gradings, progress and metrics.",
        },
        {
            "id": "dead-letters",
            "address": names.dead_letters,
            "messages": ["dead_letter"],
            "key": {"type": ["string", "null"], "description": "the input's own key"},
            "direction": "receive",
            "description": "Inputs that could not be decoded, with the reason and their origin.",
        },
    ]


def _hoist(schema: dict[str, Any], shared: dict[str, Any]) -> dict[str, Any]:
    """Move a model schema's `$defs` into components.schemas (refs already point there)."""
    schema = dict(schema)
    for name, definition in schema.pop("$defs", {}).items():
        shared[name] = definition
    return schema


def state_example() -> str:
    """A real member state record, base64: what a `m:<member id>` key carries."""
    state = MemberState("M0004146", date(2025, 3, 1), "blue", datetime(2026, 1, 2, tzinfo=UTC))
    return base64.b64encode(state_codec.encode(state)).decode()


def asyncapi_document() -> dict[str, Any]:
    names = TopicNames(NAMESPACE)
    shared: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for channel in _channels(names):
        channel_messages = {}
        for name in channel["messages"]:
            model = MODELS.get(name)
            example: Any = EXAMPLES.get(name)
            content = "application/json"
            payload: dict[str, Any]
            if name == "member_state":
                payload = _STATE_SCHEMA
                example = state_example()
                content = "application/octet-stream"
            elif model is not None:
                shared[model.__name__] = _hoist(
                    model.model_json_schema(ref_template=REF, by_alias=True), shared
                )
                payload = {"$ref": REF.format(model=model.__name__)}
            else:
                payload = _EXCHANGE_SCHEMA
            messages[name] = {
                "name": name,
                "title": name.replace("_", " "),
                "contentType": content,
                "payload": payload,
                "bindings": {"kafka": {"key": channel["key"], "bindingVersion": "0.5.0"}},
                "examples": [{"name": name, "payload": example}],
            }
            channel_messages[name] = {"$ref": f"#/components/messages/{name}"}
        config: dict[str, Any] = {
            "cleanup.policy": ["compact" if channel.get("compacted") else "delete"]
        }
        channels[channel["id"]] = {
            "address": channel["address"],
            "description": channel["description"],
            "parameters": {
                "namespace": {
                    "default": "loyalty",
                    "description": "LOYALTY_NAMESPACE: the prefix of every topic name",
                }
            },
            "messages": channel_messages,
            "bindings": {
                "kafka": {
                    "partitions": DEFAULT_PARTITIONS,
                    "topicConfiguration": config,
                    "bindingVersion": "0.5.0",
                }
            },
            "x-partitions-setting": PARTITIONS,
        }
        ref = {"$ref": f"#/channels/{channel['id']}"}
        listed = [{"$ref": f"#/channels/{channel['id']}/messages/{m}"} for m in channel_messages]
        roles = {
            "send": [("produce", "send", "producers write here")],
            "receive": [("consume", "receive", "consumers read here")],
            "internal": [
                ("produce", "send", "the engine writes here"),
                ("consume", "receive", "the engine reads here"),
            ],
        }
        for verb, action, summary in roles[channel["direction"]]:
            operations[f"{verb}-{channel['id']}"] = {
                "action": action,
                "channel": ref,
                "messages": listed,
                "summary": summary,
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Loyalty points engine topics",
            "version": "1.0.0",
            "description": "Every Kafka topic of the engine. Names are "
            "`<namespace>.<name>.v<version>`; all topics are keyed by member id (where keyed) "
            "and co-partitioned. Payloads are JSON; the models are in the `schemas` package.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(shared.items()))},
    }
