# The engine image used by docker-compose.yml (worker, topic setup and, later, the gateway).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY loyalty loyalty
COPY schemas schemas
COPY edge edge
COPY streams streams
COPY config config
COPY localinfra localinfra
COPY entrypoints entrypoints
COPY workload workload
COPY gateway gateway
COPY bench bench
COPY programs programs
RUN pip install --no-cache-dir .
USER nobody
ENTRYPOINT []
CMD ["loyalty", "worker"]
