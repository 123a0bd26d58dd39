"""One configuration for the CLI, the worker, the gateway and docker-compose."""

from config.settings import BrokerMode, Role, Settings

__all__ = ["BrokerMode", "Role", "Settings"]
