/**
 * Child processes for Node suites: what one prints, and the bridge started as an operator starts it
 * (`node bridges/main.ts --config <file>`, settings and secrets in the environment).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { bridgeProcessArgs } from "../../bridges/v8-tuning.ts";
import { scrubbedEnv } from "./child-env.ts";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Collects everything `child` writes to stdout and stderr (spawned with both piped); returns it so far. */
export function collectOutput(child: ChildProcess): () => string {
  let output = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  return () => output;
}

/**
 * Starts the bridge from the repository root with `configFile` and a scrubbed environment plus
 * `env` (and the bridge's Node options unless `nodeOptions` replaces them), and resolves once it
 * logged that it listens. When it exits first or has not started
 * within `timeoutMs`, it is killed and the error carries everything it printed.
 */
export async function startBridgeChild(
  configFile: string,
  env: Record<string, string | undefined>,
  timeoutMs: number,
  nodeOptions?: readonly string[],
): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, bridgeProcessArgs(configFile, nodeOptions), {
    cwd: REPO_ROOT,
    env: scrubbedEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = collectOutput(child);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`bridge did not start in ${timeoutMs / 1000} s:\n${output()}`)),
        timeoutMs,
      );
      child.stdout?.on("data", () => {
        if (output().includes('"msg":"edgebus bridge listening"')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`bridge exited during startup (code ${code}):\n${output()}`));
      });
    });
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return { child, output };
}
