/**
 * The bridge serving HTTPS itself (`tls.certFile`, `tls.keyFile`) as a real process: it serves the
 * configured certificate, serves a renewed one to new connections after SIGHUP, keeps the
 * previous one when the new files are broken, and refuses to start without a usable pair.
 * Needs `openssl` to make throwaway certificates; no Kafka or Redis (both gateways are off).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scrubbedEnv } from "../test/support/child-env.ts";
import { bridgeProcessArgs } from "./v8-tuning.ts";

let dir: string;
const children: ChildProcess[] = [];

function makeCertificate(name: string): { cert: string; key: string } {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"].concat([
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "1",
      "-subj",
      `/CN=${name}`,
    ]),
    { stdio: "ignore" },
  );
  return { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") };
}

/** The served certificate's subject CN, from a fresh TLS connection. */
function servedName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const subject = socket.getPeerCertificate().subject;
      socket.end();
      resolve(String(subject?.CN));
    });
    socket.on("error", reject);
  });
}

function startBridge(configPath: string): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, bridgeProcessArgs(configPath), {
    cwd: join(import.meta.dirname, ".."),
    env: scrubbedEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let text = "";
  child.stdout?.on("data", (chunk) => (text += chunk));
  child.stderr?.on("data", (chunk) => (text += chunk));
  return { child, output: () => text };
}

async function waitFor(output: () => string, pattern: RegExp, what: string): Promise<RegExpMatchArray> {
  for (let i = 0; i < 300; i++) {
    const match = pattern.exec(output());
    if (match) return match;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what} did not happen:\n${output()}`);
}

describe("bridge serving HTTPS", () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "edgebus-bridge-tls-"));
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  });

  it("serves the configured certificate, and a renewed one after SIGHUP", async () => {
    const first = makeCertificate("bridge-first");
    const second = makeCertificate("bridge-second");
    await writeFile(join(dir, "served.crt"), first.cert);
    await writeFile(join(dir, "served.key"), first.key);
    const configPath = join(dir, "bridge.yaml");
    await writeFile(
      configPath,
      [
        "port: 0",
        "kafkaRest: { enabled: false }",
        "redisRest: { enabled: false }",
        `tls: { certFile: "${join(dir, "served.crt")}", keyFile: "${join(dir, "served.key")}" }`,
      ].join("\n"),
    );
    const { child, output } = startBridge(configPath);
    const [, url] = await waitFor(
      output,
      /"msg":"edgebus bridge listening"[^\n]*"url":"(https:\/\/[^"]+)"/,
      "listening",
    );
    const port = Number(new URL(url as string).port);
    expect(await servedName(port)).toBe("bridge-first");

    // Renewal: new files in place, then SIGHUP; new connections get the new certificate.
    await writeFile(join(dir, "served.crt"), second.cert);
    await writeFile(join(dir, "served.key"), second.key);
    child.kill("SIGHUP");
    await waitFor(output, /"msg":"TLS certificate reloaded"/, "the reload");
    expect(await servedName(port)).toBe("bridge-second");

    // A broken renewal (a key that does not belong to the certificate) keeps the previous pair.
    await writeFile(join(dir, "served.crt"), first.cert);
    child.kill("SIGHUP");
    await waitFor(output, /"msg":"TLS certificate reload failed; still serving the previous one"/, "the refusal");
    expect(await servedName(port)).toBe("bridge-second");
    expect(child.exitCode).toBeNull();

    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
  }, 60_000);

  it("refuses to start without a usable certificate and key", async () => {
    const configPath = join(dir, "broken.yaml");
    await writeFile(join(dir, "garbage.crt"), "not a certificate");
    await writeFile(
      configPath,
      [
        "port: 0",
        "kafkaRest: { enabled: false }",
        "redisRest: { enabled: false }",
        `tls: { certFile: "${join(dir, "garbage.crt")}", keyFile: "${join(dir, "missing.key")}" }`,
      ].join("\n"),
    );
    const { child, output } = startBridge(configPath);
    const code = await new Promise((resolve) => child.once("exit", resolve));
    expect(code).toBe(1);
    expect(output()).toMatch(/"msg":"cannot start".*tls\.keyFile/);
  }, 30_000);
});
