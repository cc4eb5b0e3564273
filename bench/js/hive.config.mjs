// Hive Gateway configuration, as the public gateways benchmark runs it
// (gateways/hive-gateway/gateway.config.ts: JIT and inbound in-flight request deduplication;
// deduplication only when BENCH_HIVE_DEDUP=1, so both settings are measured),
// plus forwarding the client's Authorization and x-pizza-claims headers to subgraphs.
import { defineConfig } from "@graphql-hive/gateway";

export const gatewayConfig = defineConfig({
  inboundInflightRequestDeduplication: process.env.BENCH_HIVE_DEDUP === "1",
  jit: true,
  propagateHeaders: {
    fromClientToSubgraphs({ request }) {
      const headers = {};
      for (const name of ["authorization", "x-pizza-claims"]) {
        const value = request.headers.get(name);
        if (value) headers[name] = value;
      }
      return headers;
    },
  },
});
