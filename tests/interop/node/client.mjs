// A connect-es client for runnerkit's interop tests: `node client.mjs BASE_URL TOKEN`.
// Stubs come from `buf generate` with protoc-gen-es into ./gen (the test does it first).
// For each transport it creates, reads and lists runners, and records error codes and
// response metadata; it prints one JSON object: {transport: {...results}}.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { RunnerConfigurationService } from "./gen/gitpod/v1/runner_configuration_pb.js";
import { RunnerService } from "./gen/gitpod/v1/runner_pb.js";
import { RunnerProvider } from "./gen/gitpod/v1/runner_configuration_pb.js";

const [baseUrl, token] = process.argv.slice(2);

const transports = {
  "connect-proto-h2c": () =>
    createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true }),
  "connect-json-h2c": () =>
    createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: false }),
  "connect-get-h2c": () =>
    createConnectTransport({ baseUrl, httpVersion: "2", useHttpGet: true }),
  "connect-json-h1": () =>
    createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: false }),
  "grpc-h2c": () => createGrpcTransport({ baseUrl }),
  "grpc-web-h1": () => createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
  "grpc-web-h2c": () => createGrpcWebTransport({ baseUrl, httpVersion: "2" }),
};

const auth = { headers: { authorization: `Bearer ${token}` } };

async function code(call) {
  try {
    await call();
    return "ok";
  } catch (err) {
    const e = ConnectError.from(err);
    return `${Code[e.code]}: ${e.rawMessage}`;
  }
}

async function scenario(name, transport) {
  const runners = createClient(RunnerService, transport);
  const config = createClient(RunnerConfigurationService, transport);
  const out = {};
  let headers;
  const created = await runners.createRunner(
    { name: `es ${name}`, provider: RunnerProvider.GCP },
    { ...auth, onHeader: (h) => (headers = h) },
  );
  const id = created.runner.runnerId;
  out.created = created.runner.name;
  out.contentType = headers.get("content-type");
  out.got = (await runners.getRunner({ runnerId: id }, auth)).runner.runnerId === id;
  const listed = await runners.listRunners(
    { filter: { providers: [RunnerProvider.GCP] }, pagination: { pageSize: 100 } },
    auth,
  );
  out.listedIncludes = listed.runners.some((r) => r.runnerId === id);
  out.listedOnlyGcp = listed.runners.every((r) => r.provider === RunnerProvider.GCP);
  const schema = await config.getRunnerConfigurationSchema({ runnerId: id }, auth);
  out.schema = schema.schema.runnerConfig.length > 0;
  out.unauthenticated = await code(() => runners.getRunner({ runnerId: id }));
  out.invalid = await code(() => runners.getRunner({ runnerId: "runner-1" }, auth));
  out.notFound = await code(() =>
    runners.getRunner({ runnerId: "00000000-0000-4000-8000-000000000000" }, auth),
  );
  out.deleted = await code(() => runners.deleteRunner({ runnerId: id }, auth));
  return out;
}

const results = {};
for (const [name, make] of Object.entries(transports)) {
  try {
    results[name] = await scenario(name, make());
  } catch (err) {
    results[name] = { error: String(err) };
  }
}
process.stdout.write(JSON.stringify(results) + "\n");
