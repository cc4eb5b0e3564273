// @apollo/gateway on @apollo/server's standalone server, as the public gateways benchmark runs
// it (gateways/apollo-gateway/index.ts): node cluster workers (FORK, default 2) sharing the port.
// Usage: node apollo_gateway.mjs SUPERGRAPH_FILE PORT
// The client's Authorization and x-pizza-claims headers are forwarded to subgraphs.
import cluster from "node:cluster";
import { readFileSync } from "node:fs";
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";

const [supergraphPath, port] = process.argv.slice(2);
const forks = Number.parseInt(process.env.FORK ?? "2", 10);
const FORWARDED = ["authorization", "x-pizza-claims"];

if (cluster.isPrimary && forks > 1) {
  for (let i = 0; i < forks; i++) cluster.fork();
} else {
  const gateway = new ApolloGateway({
    supergraphSdl: readFileSync(supergraphPath, "utf8"),
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource({
        url,
        willSendRequest({ request, context }) {
          for (const name of FORWARDED) {
            if (context[name]) request.http.headers.set(name, context[name]);
          }
        },
      }),
  });
  const server = new ApolloServer({ gateway });
  const { url } = await startStandaloneServer(server, {
    listen: { port: Number(port), host: "127.0.0.1" },
    context: async ({ req }) => Object.fromEntries(FORWARDED.map((name) => [name, req.headers[name]])),
  });
  console.log(`@apollo/gateway ready at ${url}`);
}
