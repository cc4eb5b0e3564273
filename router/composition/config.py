"""Read a Rover ``supergraph.yaml`` and load each subgraph's SDL.

In: the path of a ``supergraph.yaml`` (``federation_version: =2.x``,
``subgraphs: NAME: {routing_url, schema: {file | subgraph_url | introspection_url}}``).
Out: `SubgraphDefinition`s; a ``file`` is read relative to the YAML file, a
URL is queried with ``{ _service { sdl } }`` over HTTP (httpx).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import yaml

from router.composition.errors import CompositionError, CompositionFailed

if TYPE_CHECKING:
    from router.composition import SubgraphDefinition

SERVICE_SDL_QUERY = "{ _service { sdl } }"


def load_subgraphs(path: str, *, timeout: float = 10.0) -> list[SubgraphDefinition]:
    """Parse the config and fetch or read every subgraph's SDL."""
    from router.composition import SubgraphDefinition

    config_path = Path(path)
    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    subgraphs: dict[str, Any] = config.get("subgraphs") or {}
    if not subgraphs:
        raise CompositionFailed(
            [CompositionError("CONFIG_INVALID", f"{path}: no subgraphs listed")]
        )
    definitions: list[SubgraphDefinition] = []
    for name, entry in subgraphs.items():
        entry = entry or {}
        schema = entry.get("schema") or {}
        url = (
            entry.get("routing_url")
            or schema.get("subgraph_url")
            or schema.get("introspection_url")
            or ""
        )
        if "file" in schema:
            sdl = (config_path.parent / schema["file"]).read_text(encoding="utf-8")
        elif "subgraph_url" in schema or "introspection_url" in schema:
            sdl = fetch_sdl(
                schema.get("subgraph_url") or schema["introspection_url"], timeout=timeout
            )
        else:
            raise CompositionFailed(
                [
                    CompositionError(
                        "CONFIG_INVALID",
                        f'{path}: subgraph "{name}" has no schema.file or schema.subgraph_url',
                    )
                ]
            )
        definitions.append(SubgraphDefinition(name=str(name), url=str(url), sdl=sdl))
    return definitions


def fetch_sdl(url: str, *, timeout: float = 10.0) -> str:
    """Ask a running subgraph for its SDL with ``{ _service { sdl } }``."""
    response = httpx.post(url, json={"query": SERVICE_SDL_QUERY}, timeout=timeout)
    response.raise_for_status()
    payload = response.json()
    sdl = ((payload.get("data") or {}).get("_service") or {}).get("sdl")
    if not isinstance(sdl, str):
        raise CompositionFailed(
            [
                CompositionError(
                    "INVALID_SUBGRAPH_SDL",
                    f"{url} did not return _service.sdl: {payload.get('errors')}",
                )
            ]
        )
    return sdl
