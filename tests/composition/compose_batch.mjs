// Reference composition of many fixtures in one node process, for tests only.
// stdin: JSON {"case": [{"name": "...", "url": "...", "sdl": "..."}], ...}
// stdout: JSON {"case": {"supergraphSdl": "..."} | {"errors": [{"code", "message"}]}, ...}
import { composeServices } from "../js/node_modules/@apollo/composition/dist/index.js";
import { parse } from "../js/node_modules/graphql/index.js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const cases = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const results = {};
for (const [name, subgraphs] of Object.entries(cases)) {
  try {
    const services = subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) }));
    const result = composeServices(services);
    results[name] = result.errors
      ? { errors: result.errors.map((e) => ({ code: e.extensions?.code ?? null, message: e.message })) }
      : { supergraphSdl: result.supergraphSdl };
  } catch (e) {
    results[name] = { errors: [{ code: "INVALID_GRAPHQL", message: String(e.message) }] };
  }
}
process.stdout.write(JSON.stringify(results));
