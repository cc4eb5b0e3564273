"""The router's request pipeline, independent of HTTP.

In: a GraphQL request (query, operationName, variables) and the client's headers.
Out: the GraphQL response dict (``data``/``errors``), or ``RequestError`` for requests
refused before execution. Stages: authenticate (JWT → claims, ``router.auth``) → prepare
(parse + validate, cached per query text and operation name) → coerce variables → authorize
(remove fields the caller may not see) → resolve progressive ``@override`` labels → normalize
and plan (cached per query, operation name, ``@skip``/``@include`` values, authorization outcome
and enabled override labels) → execute → shape.

Progressive ``@override`` (Apollo Router semantics): per request, each ``percent(N)`` label is
enabled with probability N/100, independently; any other label is enabled only when the
``RouterConfig.override_labels`` hook returns it. With k labels an operation has at most 2^k
plans.
"""

from __future__ import annotations

import logging
import random
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import execute_sync
from graphql.execution.values import get_variable_values

from router import errors
from router.auth import AuthorizedOperation, PolicyHook, RouterAuth
from router.config import OverrideLabelContext, RouterConfig, load_override_label_hook
from router.edge.limits import OperationLimits
from router.executor import execute_plan
from router.fetcher import (
    SubgraphFetcher,
    SubgraphHTTPClient,
    create_http_client,
    router_ssl_context,
)
from router.observability import RouterObservability
from router.operation import (
    INTROSPECTION_FIELDS,
    LRUCache,
    NSelection,
    PreparedOperation,
    normalize,
    prepare_operation,
)
from router.plan import QueryPlan, format_plan
from router.planner import QueryPlanner
from router.response import shape_data
from router.supergraph import Supergraph, override_percent

logger = logging.getLogger("router")


@dataclass(frozen=True, slots=True)
class PlannedOperation:
    """A cached plan with the normalized selection the response is shaped by."""

    plan: QueryPlan
    selection: NSelection
    introspection_keys: tuple[str, ...]


class Gateway:
    """Serves GraphQL requests against a supergraph through its subgraphs."""

    def __init__(
        self,
        *,
        supergraph: Supergraph,
        config: RouterConfig,
        policy_hook: PolicyHook | None = None,
        override_random: random.Random | None = None,
    ) -> None:
        self.supergraph = supergraph
        self.config = config
        self.schema = supergraph.api_schema
        self.auth = RouterAuth(
            config=config.auth,
            schema=self.schema,
            supergraph_sdl=supergraph.sdl,
            policy_hook=policy_hook,
            cache_size=config.plan_cache_size,
        )
        self.planner = QueryPlanner(supergraph)
        self.limits = OperationLimits(
            self.schema,
            limits=config.edge.limits,
            demand_control=config.edge.demand_control,
            supergraph_sdl=supergraph.sdl,
        )
        self.prepared: LRUCache[tuple[str, str | None], PreparedOperation | errors.RequestError] = (
            LRUCache(config.plan_cache_size)
        )
        self.plans: LRUCache[
            tuple[str, str | None, tuple[bool, ...], tuple[bool, ...], frozenset[str]],
            PlannedOperation,
        ] = LRUCache(config.plan_cache_size)
        # Progressive @override: percent labels are rolled with this RNG, the rest asked to
        # the hook (see override_labels_for).
        self.override_random = override_random or random.Random()
        self.override_label_hook = load_override_label_hook(config.override_labels)
        self.percent_labels: dict[str, float] = {}
        for label in sorted(supergraph.override_label_names):
            percent = override_percent(label)
            if percent is not None:
                self.percent_labels[label] = percent
        self.hook_labels = supergraph.override_label_names - set(self.percent_labels)
        self.client: SubgraphHTTPClient | None = None
        self.fetcher: SubgraphFetcher | None = None
        self.subgraph_tls: ssl.SSLContext | None = None
        """``tls.subgraph.all.certificate_authorities``' context (loaded by ``start``), shared by
        the fetcher, the JWKS fetch and subscription upstreams; None: the system's CAs."""
        self.observability = RouterObservability.attach(self)  # metrics, plan spans

    @classmethod
    def from_sdl(
        cls,
        supergraph_sdl: str,
        config: RouterConfig,
        *,
        policy_hook: PolicyHook | None = None,
        override_random: random.Random | None = None,
    ) -> Gateway:
        """Parse the supergraph (applying ``override_subgraph_url``) and build a gateway."""
        supergraph = Supergraph.parse(
            supergraph_sdl, override_urls=dict(config.override_subgraph_url)
        )
        return cls(
            supergraph=supergraph,
            config=config,
            policy_hook=policy_hook,
            override_random=override_random,
        )

    async def start(self) -> None:
        """Load the subgraph CA bundle (if any) and open the pooled HTTP client."""
        self.subgraph_tls = router_ssl_context(self.config)  # a bad bundle fails startup
        if self.auth.authenticator is not None:
            await self.auth.authenticator.jwks.trust(self.subgraph_tls)
        self.client = create_http_client()
        # Breakers, retries, stale responses, fetch spans and metrics (router.observability).
        self.fetcher = self.observability.wrap_fetcher(  # type: ignore[assignment]
            SubgraphFetcher(
                client=self.client,
                subgraphs=self.supergraph.subgraphs,
                config=self.config,
                tls=self.subgraph_tls,
            )
        )

    async def stop(self) -> None:
        """Close the pooled HTTP client (and the JWKS client)."""
        await self.auth.stop()
        if self.client is not None:
            await self.client.aclose()
        self.client = self.fetcher = None

    def prepare(self, query: str, operation_name: str | None) -> PreparedOperation:
        """The parsed and validated operation (cached); raises ``RequestError``."""
        key = (query, operation_name)
        cached = self.prepared.get(key)
        if cached is None:
            try:
                cached = prepare_operation(
                    self.schema,
                    query,
                    operation_name,
                    max_tokens=self.config.edge.limits.parser_max_tokens,
                )
                cached.analysis = self.limits.analyze(cached)  # depth, aliases, cost: once
            except errors.RequestError as error:
                cached = error
            self.prepared.put(key, cached)
        if isinstance(cached, errors.RequestError):
            # A fresh exception each time: re-raising one instance would grow its traceback.
            raise errors.RequestError(
                str(cached), code=cached.code, status=cached.status, errors=cached.errors
            )
        return cached

    def override_labels_for(
        self,
        query: str,
        operation_name: str | None = None,
        variables: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        claims: Mapping[str, Any] | None = None,
    ) -> frozenset[str]:
        """The progressive ``@override`` labels enabled for one request.

        Each ``percent(N)`` label is enabled with probability N/100 (independently); the other
        labels only when the ``override_labels`` hook returns them. A failing hook enables none
        of its labels (the original subgraphs keep serving).
        """
        enabled = {
            label
            for label, percent in self.percent_labels.items()
            if self.override_random.random() < percent
        }
        if self.hook_labels and self.override_label_hook is not None:
            context = OverrideLabelContext(
                labels=self.hook_labels,
                query=query,
                operation_name=operation_name,
                variables=dict(variables or {}),
                headers=dict(headers or {}),
                claims=claims,
            )
            try:
                enabled.update(set(self.override_label_hook(context)) & self.hook_labels)
            except Exception:
                logger.exception("override label hook failed: no label enabled by it")
        return frozenset(enabled)

    def plan_for(
        self,
        query: str,
        operation_name: str | None,
        prepared: PreparedOperation,
        variables: Mapping[str, Any],
        authorized: AuthorizedOperation | None = None,
        override_labels: frozenset[str] | None = None,
    ) -> PlannedOperation:
        """The cached plan for these ``@skip``/``@include`` values, authorization outcome and
        progressive ``@override`` labels (``None``: resolved here, without request headers).

        With fields removed by authorization, the plan runs the authorized operation while the
        response keeps the client's shape (removed fields are null, their errors cover them).
        """
        if override_labels is None:
            override_labels = self.override_labels_for(query, operation_name, variables)
        labels = frozenset(override_labels) & self.supergraph.override_label_names
        conditions = tuple(bool(variables.get(name)) for name in prepared.condition_variables)
        allowed = authorized.prepared if authorized is not None else prepared
        key = (query, operation_name, conditions, authorized.outcome if authorized else (), labels)
        planned = self.plans.get(key)
        if planned is None:
            values = dict(zip(prepared.condition_variables, conditions, strict=True))
            selection = normalize(self.schema, prepared, values)
            runnable = selection if allowed is prepared else normalize(self.schema, allowed, values)
            try:
                plan = self.planner.plan(
                    runnable, operation=allowed.operation, override_labels=labels
                )
            except errors.PlanningError as error:
                raise errors.RequestError(
                    f"Query planning failed: {error}", code=errors.QUERY_PLANNING_FAILED, status=500
                ) from error
            root_fields = next(iter(selection.by_type.values()))
            keys = tuple(f.response_key for f in root_fields if f.name in INTROSPECTION_FIELDS)
            planned = PlannedOperation(plan=plan, selection=selection, introspection_keys=keys)
            self.plans.put(key, planned)
        return planned

    def coerce_variables(
        self, prepared: PreparedOperation, raw: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Validate variable values; the values to forward (raw input plus declared defaults)."""
        definitions = prepared.operation.variable_definitions or ()
        if not definitions:
            return {}
        result = get_variable_values(self.schema, definitions, dict(raw), max_errors=10)
        if isinstance(result, list):
            raise errors.RequestError(
                result[0].message,
                code=errors.VALIDATION_INVALID_TYPE_VARIABLE,
                errors=[
                    errors.graphql_error(e.message, code=errors.VALIDATION_INVALID_TYPE_VARIABLE)
                    for e in result
                ],
            )
        forwarded = {name: raw[name] for name in raw if name in result.coerced}
        for name, value in result.coerced.items():
            forwarded.setdefault(name, value)
        return forwarded

    async def execute(
        self,
        *,
        query: str,
        operation_name: str | None = None,
        variables: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        allow_mutations: bool = True,
        expose_plan: bool = False,
    ) -> dict[str, Any]:
        """Run one GraphQL request; the response dict. Raises ``RequestError`` before execution.

        ``expose_plan`` adds the readable plan as ``extensions.apolloQueryPlan.text``.
        """
        headers = headers or {}
        claims = await self.auth.authenticate(headers)
        prepared = self.prepare(query, operation_name)
        if prepared.kind == "mutation" and not allow_mutations:
            raise errors.RequestError(
                "Mutations cannot be sent with GET", code=errors.METHOD_NOT_ALLOWED, status=405
            )
        if prepared.kind == "subscription":
            # Served by router.subscriptions (WebSocket or multipart HTTP), never as one answer.
            raise errors.RequestError(
                "Subscriptions need a WebSocket (graphql-transport-ws on /graphql) or multipart "
                'HTTP (Accept: multipart/mixed;subscriptionSpec="1.0")',
                code=errors.BAD_REQUEST,
            )
        values = self.coerce_variables(prepared, variables or {})
        self.limits.check(prepared, values)
        authorized = await self.auth.authorize((query, operation_name), prepared, claims)
        labels = self.override_labels_for(query, operation_name, values, headers, claims)
        planned = self.plan_for(query, operation_name, prepared, values, authorized, labels)
        if planned.introspection_keys and not self.config.introspection:
            raise errors.RequestError(
                "introspection has been disabled", code=errors.INTROSPECTION_DISABLED
            )
        if self.fetcher is None:
            raise RuntimeError("Gateway.start() was not awaited")
        errs: list[dict[str, Any]] = [dict(e) for e in authorized.errors]
        data: dict[str, Any] | None = {}
        if not authorized.empty:
            data, fetch_errors = await execute_plan(
                planned.plan,
                fetcher=self.fetcher,
                variables=values,
                headers=self.auth.forwarded_headers(headers, claims),
            )
            errs.extend(fetch_errors)
        introspection = self._introspect(prepared, values) if planned.introspection_keys else None
        shaped = shape_data(planned.selection, data, errs, introspection=introspection)
        response: dict[str, Any] = {"data": shaped}
        if errs:
            response["errors"] = errs
        if expose_plan:
            response["extensions"] = {"apolloQueryPlan": {"text": format_plan(planned.plan)}}
        return response

    def _introspect(self, prepared: PreparedOperation, variables: dict[str, Any]) -> dict[str, Any]:
        """Answer ``__schema``/``__type`` from the API schema (other root fields resolve to null)."""
        operation_name = prepared.operation.name.value if prepared.operation.name else None
        result = execute_sync(
            self.schema, prepared.document, variable_values=variables, operation_name=operation_name
        )
        return dict(result.data or {})
