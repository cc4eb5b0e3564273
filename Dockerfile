# One image for the router and every subgraph (the command picks which).
FROM python:3.11.7-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY router ./router
COPY shared ./shared
COPY subgraphs ./subgraphs
COPY schema ./schema
COPY deploy ./deploy
RUN pip install --no-cache-dir . && useradd --system --uid 10001 pizza
USER pizza
EXPOSE 4000-4008
