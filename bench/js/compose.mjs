// Reference composition with @apollo/composition (bench only): checks bench/gateways_benchmark.
// stdin: JSON [{"name", "url", "sdl"}]; stdout: JSON {"supergraphSdl"} or {"errors": [...]}.
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const services = JSON.parse(Buffer.concat(chunks).toString("utf8")).map((s) => ({
  name: s.name,
  url: s.url,
  typeDefs: parse(s.sdl),
}));
const result = composeServices(services);
if (result.errors) {
  const errors = result.errors.map((e) => ({ code: e.extensions?.code ?? null, message: e.message }));
  process.stdout.write(JSON.stringify({ errors }));
} else {
  process.stdout.write(JSON.stringify({ supergraphSdl: result.supergraphSdl }));
}
