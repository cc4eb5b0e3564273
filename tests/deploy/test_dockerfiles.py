"""One Dockerfile per service: pinned slim base, non-root, healthcheck (hadolint-like checks)."""

from __future__ import annotations

import re

import pytest

from tests.deploy.conftest import ROOT, SERVICES

DOCKER = ROOT / "docker"
PINNED = re.compile(r"^python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?$")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def test_one_dockerfile_per_service_and_no_root_dockerfile():
    assert sorted(p.name for p in DOCKER.glob("*.Dockerfile")) == sorted(
        f"{name}.Dockerfile" for name in SERVICES
    )
    assert not (ROOT / "Dockerfile").exists(), "the shared root Dockerfile was replaced"


@pytest.mark.parametrize("service", SERVICES)
def test_dockerfile_is_pinned_slim_nonroot_with_healthcheck(service):
    text = (DOCKER / f"{service}.Dockerfile").read_text(encoding="utf-8")
    steps = instructions(text)
    bases = [args.split()[0] for word, args in steps if word == "FROM"]
    assert bases, "no FROM"
    for base in bases:
        assert PINNED.match(base), f"base image not pinned to an exact slim version: {base}"
    final = steps[max(i for i, (word, _) in enumerate(steps) if word == "FROM") :]
    users = [args for word, args in final if word == "USER"]
    assert users, "final stage has no USER"
    assert users[-1].split(":")[0] not in {"root", "0"}, "runs as root"
    assert any(word == "HEALTHCHECK" for word, _ in final), "no HEALTHCHECK"
    health = next(args for word, args in final if word == "HEALTHCHECK")
    assert f"127.0.0.1:{SERVICES[service]}/health" in health
    assert ("EXPOSE", str(SERVICES[service])) in final
    # hadolint DL3020 / DL3007 / DL3002 in spirit: COPY not ADD, no :latest, no sudo.
    assert not any(word == "ADD" for word, _ in steps)
    assert ":latest" not in text and "sudo" not in text
    assert any(word == "COPY" and args.startswith("--from=build") for word, args in final), (
        "final stage should copy the virtualenv from the build stage (multi-stage, slim)"
    )
    entry = next(args for word, args in final if word == "ENTRYPOINT")
    expected = '"router"' if service == "router" else f'"subgraphs", "{service}"'
    assert expected in entry


def test_dockerfiles_are_identical_but_for_the_service():
    """The nine files stay in step: differing only by name and port (router: its schema)."""

    def normalized(service: str) -> str:
        text = (DOCKER / f"{service}.Dockerfile").read_text(encoding="utf-8")
        return text.replace(service, "NAME").replace(str(SERVICES[service]), "PORT")

    subgraphs = [s for s in SERVICES if s != "router"]
    reference = normalized(subgraphs[0])
    for name in subgraphs[1:]:
        assert normalized(name) == reference, name

    def build_stage(service: str) -> str:
        return (DOCKER / f"{service}.Dockerfile").read_text("utf-8").split("\nFROM ", 2)[1]

    assert build_stage("router") == build_stage(subgraphs[0]), "router build stage differs"


@pytest.mark.parametrize("service", SERVICES)
def test_build_context_is_filtered(service):
    ignore = (DOCKER / f"{service}.Dockerfile.dockerignore").read_text(encoding="utf-8")
    lines = [line.strip() for line in ignore.splitlines() if line and not line.startswith("#")]
    assert lines[0] == "*", "ignore everything, then allow what the image needs"
    copied = {
        args.split()[0]
        for word, args in instructions((DOCKER / f"{service}.Dockerfile").read_text("utf-8"))
        if word == "COPY" and not args.startswith("--from")
    }
    for source in copied:
        assert f"!{source.rstrip('/')}" in {line.rstrip("/") for line in lines}, source
