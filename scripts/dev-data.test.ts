import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { preparePrivateDataDir, writePrivateFile } from "./dev-data.ts";

const modeOf = async (file: string) => (await stat(file)).mode & 0o777;
const folders: string[] = [];
afterEach(async () => {
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
});

describe("the dev stack's data folder is private", () => {
  it("tightens what an older run left readable by others, files and folders", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "edgebus-dev-data-"));
    folders.push(dir);
    await chmod(dir, 0o755);
    await mkdir(path.join(dir, "wrangler", "state"), { recursive: true, mode: 0o755 });
    await writeFile(path.join(dir, "dev-stack.json"), "{}", { mode: 0o644 });
    await writeFile(path.join(dir, "wrangler", "state", "db.sqlite"), "", { mode: 0o664 });
    await writeFile(path.join(dir, "run.sh"), "", { mode: 0o755 });
    const umask = process.umask();
    try {
      await preparePrivateDataDir(dir);
      expect(process.umask()).toBe(0o077);
    } finally {
      process.umask(umask);
    }
    expect(await modeOf(dir)).toBe(0o700);
    expect(await modeOf(path.join(dir, "wrangler"))).toBe(0o700);
    expect(await modeOf(path.join(dir, "wrangler", "state"))).toBe(0o700);
    expect(await modeOf(path.join(dir, "dev-stack.json"))).toBe(0o600);
    expect(await modeOf(path.join(dir, "wrangler", "state", "db.sqlite"))).toBe(0o600);
    expect(await modeOf(path.join(dir, "run.sh"))).toBe(0o700);
  });

  it("writes a private file 0600, also over a file that was readable by others", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "edgebus-dev-data-"));
    folders.push(dir);
    const file = path.join(dir, "dev-stack.json");
    await writePrivateFile(file, '{"apiKey":"ebk_x"}');
    expect(await modeOf(file)).toBe(0o600);
    await chmod(file, 0o644);
    await writePrivateFile(file, "{}");
    expect(await modeOf(file)).toBe(0o600);
  });

  it("never lets a reader that waits for the file see it half written, and leaves no temporary file", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "edgebus-dev-data-"));
    folders.push(dir);
    const file = path.join(dir, "dev-stack.json");
    const text = JSON.stringify({ apiKey: "ebk_x", padding: "x".repeat(8 * 1024 * 1024) });
    const reads: number[] = [];
    let done = false;
    const reader = (async () => {
      while (!done) {
        if (existsSync(file)) reads.push((await readFile(file, "utf8")).length);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await writePrivateFile(file, text);
    done = true;
    await reader;
    expect(reads.every((length) => length === text.length)).toBe(true);
    expect(await readdir(dir)).toEqual(["dev-stack.json"]);
  });
});

describe("scripts/kafka.sh key material", () => {
  it("creates the dev CA, broker keys and broker config 0600 (with openssl on PATH)", async () => {
    const state = await mkdtemp(path.join(tmpdir(), "edgebus-kafka-state-"));
    folders.push(state);
    const script = fileURLToPath(new URL("./kafka.sh", import.meta.url));
    try {
      // umask 022, as a login shell has: the script must not rely on the caller's.
      execFileSync(
        "bash",
        ["-c", `umask 022 && source "${script}" && ensure_tls_material && write_broker_config 1 1`],
        {
          env: { ...process.env, EDGEBUS_KAFKA_STATE: state },
          stdio: "pipe",
        },
      );
    } catch (error) {
      if (/openssl not found/.test(String((error as { stderr?: Buffer }).stderr))) return;
      throw error;
    }
    for (const file of [
      "tls/ca-key.pem",
      "tls/broker-key.pem",
      "tls/broker-key.rsa.pem",
      "tls/broker-keystore.pem",
      "broker-1/server.properties",
    ]) {
      expect(await modeOf(path.join(state, file)), file).toBe(0o600);
    }
    expect(await modeOf(path.join(state, "tls"))).toBe(0o700);
  });
});
