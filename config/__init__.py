"""One configuration for the CLI, the worker, the gateway and docker-compose."""

from config.settings import BrokerMode, Settings

__all__ = ["BrokerMode", "Settings"]
