# syntax=docker/dockerfile:1
# The users subgraph. Build from the repository root:
#   docker build -f docker/users.Dockerfile -t pizza-users .
# Runs `python -m subgraphs users` on :4001; migrations run at start unless a
# migration Job ran them first (deploy/kubernetes). Config: PIZZA_* (README).
FROM python:3.11.13-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY router ./router
COPY shared ./shared
COPY subgraphs ./subgraphs
RUN /opt/venv/bin/pip install . \
 && /opt/venv/bin/pip uninstall --yes pip

FROM python:3.11.13-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    PIZZA_MODE=distributed \
    PIZZA_HOST=0.0.0.0 \
    PIZZA_DATA_DIR=/tmp/pizza
RUN groupadd --system --gid 10001 pizza \
 && useradd --system --uid 10001 --gid pizza --no-create-home --shell /usr/sbin/nologin pizza
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
USER 10001:10001
EXPOSE 4001
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:4001/health', timeout=2)"]
ENTRYPOINT ["python", "-m", "subgraphs", "users"]
CMD ["--host", "0.0.0.0", "--port", "4001"]
