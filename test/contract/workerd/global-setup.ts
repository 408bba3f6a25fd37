/**
 * Runs in Node before the workerd contract suites: starts the recording Kafka REST server and an
 * inspection endpoint (`GET` → `{requests, records}`), and hands their URLs to workerd with
 * `provide()`, so the Kafka publisher's contract also runs inside the runtime it ships to.
 */
import { createServer, type Server } from "node:http";
import type { TestProject } from "vitest/node";
import { KafkaRestRecorder } from "../kafka-rest-recorder.ts";

declare module "vitest" {
  export interface ProvidedContext {
    contractKafkaRestUrl: string;
    contractKafkaRestUsername: string;
    contractKafkaRestPassword: string;
    contractKafkaInspectUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const recorder = new KafkaRestRecorder("contract-user", `contract-${crypto.randomUUID()}`);
  await recorder.start();
  const inspector: Server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ requests: recorder.requests, records: recorder.records }));
  });
  await new Promise<void>((resolve) => inspector.listen(0, "127.0.0.1", resolve));
  const address = inspector.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;

  project.provide("contractKafkaRestUrl", recorder.url);
  project.provide("contractKafkaRestUsername", recorder.username);
  project.provide("contractKafkaRestPassword", recorder.password);
  project.provide("contractKafkaInspectUrl", `http://127.0.0.1:${port}/`);

  return async () => {
    await new Promise<void>((resolve) => inspector.close(() => resolve()));
    await recorder.stop();
  };
}
