"""``@policy``: which named policies a caller satisfies, decided by a pluggable hook.

In: the policy names an operation's fields require and the caller's verified claims
(``None`` when anonymous). Out: the names the caller satisfies. Apollo Router hands this to a
coprocessor or a Rhai script; here it is a Python callable, configured in ``router.yaml``
as ``authorization.policies.hook: "package.module:attribute"`` or passed to the gateway.

The default hook grants ``role:<role>`` for each role in the claims (``role:admin``,
``role:staff``...), and nothing else: unknown policies are denied.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

logger = logging.getLogger("router.auth")

PolicyHook = Callable[
    [frozenset[str], Mapping[str, Any] | None], Iterable[str] | Awaitable[Iterable[str]]
]
"""``hook(policies, claims) -> granted``: the subset of ``policies`` the caller satisfies."""


def role_policies(policies: frozenset[str], claims: Mapping[str, Any] | None) -> set[str]:
    """The default hook: ``role:<role>`` for the caller's roles."""
    if claims is None:
        return set()
    roles = {str(r).lower() for r in claims.get("roles") or ()}
    return {p for p in policies if p.startswith("role:") and p.removeprefix("role:") in roles}


def load_policy_hook(reference: str | None) -> PolicyHook:
    """The hook at ``module:attribute``; the default hook when ``reference`` is empty."""
    if not reference:
        return role_policies
    module_name, _, attribute = reference.partition(":")
    if not attribute:
        raise ValueError(
            f"authorization.policies.hook must be 'module:attribute', not {reference!r}"
        )
    hook = getattr(importlib.import_module(module_name), attribute)
    if not callable(hook):
        raise ValueError(f"authorization.policies.hook {reference!r} is not callable")
    return hook  # type: ignore[no-any-return]


async def granted_policies(
    hook: PolicyHook, policies: frozenset[str], claims: Mapping[str, Any] | None
) -> frozenset[str]:
    """Ask ``hook``; a hook that fails grants nothing (fail closed)."""
    if not policies:
        return frozenset()
    try:
        result = hook(policies, claims)
        if inspect.isawaitable(result):
            result = await result
        return frozenset(result) & policies
    except Exception:
        logger.exception("the policy hook failed: every @policy is denied for this request")
        return frozenset()
