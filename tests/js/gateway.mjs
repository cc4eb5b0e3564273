// Reference gateway (@apollo/gateway behind @apollo/server), for differential tests only.
//
// One supergraph:   node gateway.mjs --port 4100 --supergraph supergraph.graphql
//                   serves POST /graphql
// Many supergraphs: node gateway.mjs --port 4100 --manifest cases.json
//                   cases.json is {"<name>": "<path of a supergraph SDL file>", ...};
//                   serves POST /<name>/graphql, one ApolloGateway per supergraph.
// Supergraphs are static (no polling, no Apollo Studio). Prints "ready <url>" on stdout once
// every gateway has loaded, and exits when stdin closes (so a killed test run leaves nothing).
import { readFileSync } from "node:fs";
import http from "node:http";
import { ApolloGateway } from "@apollo/gateway";
import { ApolloServer, HeaderMap } from "@apollo/server";
import {
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from "@apollo/server/plugin/disabled";

function argument(name) {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

const port = Number(argument("port") ?? 4100);
const manifestPath = argument("manifest");
const supergraphPath = argument("supergraph");
const supergraphs = manifestPath
  ? JSON.parse(readFileSync(manifestPath, "utf8"))
  : { "": supergraphPath };
if (!manifestPath && !supergraphPath) {
  process.stderr.write("usage: gateway.mjs --port N (--supergraph FILE | --manifest FILE)\n");
  process.exit(2);
}

const servers = new Map();
for (const [name, path] of Object.entries(supergraphs)) {
  const gateway = new ApolloGateway({ supergraphSdl: readFileSync(path, "utf8") });
  const server = new ApolloServer({
    gateway,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginUsageReportingDisabled()],
  });
  await server.start();
  servers.set(name ? `/${name}/graphql` : "/graphql", server);
}

function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

const httpServer = http.createServer(async (request, response) => {
  const url = new URL(request.url, "http://localhost");
  const server = servers.get(url.pathname);
  if (!server) {
    response.statusCode = 404;
    response.end("unknown path");
    return;
  }
  try {
    const text = await readBody(request);
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
    }
    const result = await server.executeHTTPGraphQLRequest({
      httpGraphQLRequest: {
        method: request.method.toUpperCase(),
        headers,
        search: url.search,
        body: text ? JSON.parse(text) : undefined,
      },
      context: async () => ({}),
    });
    for (const [key, value] of result.headers) response.setHeader(key, value);
    response.statusCode = result.status || 200;
    if (result.body.kind === "complete") {
      response.end(result.body.string);
    } else {
      for await (const chunk of result.body.asyncIterator) response.write(chunk);
      response.end();
    }
  } catch (error) {
    response.statusCode = 500;
    response.end(JSON.stringify({ errors: [{ message: String(error?.message ?? error) }] }));
  }
});

httpServer.keepAliveTimeout = 30_000;
httpServer.listen(port, "127.0.0.1", () => {
  process.stdout.write(`ready http://127.0.0.1:${port}\n`);
});

async function shutdown() {
  httpServer.close();
  await Promise.allSettled([...servers.values()].map((server) => server.stop()));
  process.exit(0);
}
process.stdin.on("end", shutdown);
process.stdin.on("close", shutdown);
process.stdin.resume();
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
