import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const script = fileURLToPath(new URL("./kafka.sh", import.meta.url));
const folders: string[] = [];
afterEach(async () => {
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
});

/** `resolve_probe_node` of a sourced kafka.sh, with this process's Node first on PATH: the Node it picks. */
function probeNode(env: Record<string, string>): string {
  const output = execFileSync("bash", ["-c", `source "${script}" && resolve_probe_node && printf '%s' "$PROBE_NODE"`], {
    env: {
      PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ""}`,
      HOME: process.env.HOME ?? tmpdir(),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return output.toString();
}

describe("scripts/kafka.sh readiness probe's Node", () => {
  it("is the Node on PATH when it is new enough for the Kafka client", () => {
    expect(probeNode({})).toBe(path.join(path.dirname(process.execPath), "node"));
  });

  it("is the launcher's newer Node when the one on PATH is too old (a direct `bash scripts/kafka.sh start` on Node 20)", async () => {
    // The launcher's cache holding an "installed" Node (this one, linked), and a minimum no
    // running Node meets: what a Node 20 PATH looks like to scripts/with-node.mjs.
    const cache = await mkdtemp(path.join(tmpdir(), "edgebus-kafka-probe-"));
    folders.push(cache);
    const bin = path.join(cache, "node-99.0.0", "package", "bin");
    await mkdir(bin, { recursive: true });
    await symlink(process.execPath, path.join(bin, "node"));
    const picked = probeNode({ EDGEBUS_CACHE: cache, EDGEBUS_NODE_VERSION: "99.0.0", EDGEBUS_NODE_MINIMUM: "999" });
    expect(picked).toBe(path.join(bin, "node"));
  });
});
