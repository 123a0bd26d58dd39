"""The wire contract: pydantic models for everything that crosses Kafka, Redis or HTTP."""
