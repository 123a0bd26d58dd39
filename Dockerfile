# The engine image used by docker-compose.yml (worker, topic setup and, later, the gateway).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY loyalty loyalty
COPY schemas schemas
COPY streams streams
COPY config config
COPY localinfra localinfra
COPY entrypoints entrypoints
RUN pip install --no-cache-dir .
USER nobody
ENTRYPOINT []
CMD ["loyalty", "worker"]
