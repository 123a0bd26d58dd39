"""The AsyncAPI document: valid AsyncAPI 3.0, one channel per engine topic with its real
address and cleanup policy, and every example valid against its payload model."""

from __future__ import annotations

import base64
import gzip
from pathlib import Path

import jsonschema
import orjson
import pytest

from edge.asyncapi import MODELS, NAMESPACE, asyncapi_document
from schemas.examples import EXAMPLES
from streams import exchange, state_codec
from streams.topics import TopicNames

ROOT = Path(__file__).resolve().parents[2]
SPEC = orjson.loads(
    gzip.decompress((ROOT / "tests/data/asyncapi-3.0.0.schema.json.gz").read_bytes())
)


def test_the_document_is_valid_asyncapi_3() -> None:
    document = orjson.loads(orjson.dumps(asyncapi_document()))
    errors = list(jsonschema.Draft7Validator(SPEC).iter_errors(document))
    assert errors == []


def test_the_spec_check_can_fail() -> None:
    document = orjson.loads(orjson.dumps(asyncapi_document()))
    document["operations"]["consume-ops"]["action"] = "listen"
    assert list(jsonschema.Draft7Validator(SPEC).iter_errors(document))


def test_every_topic_has_a_channel_with_its_address_and_cleanup_policy() -> None:
    channels = asyncapi_document()["channels"]
    by_address = {c["address"]: c for c in channels.values()}
    specs = TopicNames(NAMESPACE).specs()
    assert sorted(by_address) == sorted(spec.name for spec in specs)
    for spec in specs:
        policy = by_address[spec.name]["bindings"]["kafka"]["topicConfiguration"]
        assert policy["cleanup.policy"] == ["compact" if spec.compacted else "delete"]


def test_every_message_has_an_example_that_its_model_accepts() -> None:
    messages = asyncapi_document()["components"]["messages"]
    for name, message in messages.items():
        (example,) = message["examples"]
        payload = orjson.dumps(example["payload"])
        model = MODELS.get(name)
        if name == "member_state":  # the engine's changelog: bytes, base64 in the document
            state = state_codec.decode(base64.b64decode(example["payload"]))
            assert state.member_id == "M0004146"
        elif model is None:  # the internal exchange format has no public model
            assert exchange.decode(payload) is not None
        else:
            model.model_validate_json(payload)
            if "type" in example["payload"]:  # a typed record: the example is of this type
                assert example["payload"]["type"] == name


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_example_is_used_or_is_an_internal_input(name: str) -> None:
    messages = asyncapi_document()["components"]["messages"]
    assert name in messages or name in ("transfer_received", "transfer_returned")
