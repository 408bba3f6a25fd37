/**
 * The environment for a process a test starts (the bridge, `npm run dev`, a CLI): the parent's,
 * minus every setting that selects a server or carries a credential. A developer's own
 * `BRIDGE_*`, `UPSTASH_*`, `DATABASE_URL`, `REDIS_URL` or `KAFKA_BROKERS` must not change what a
 * test checks; the test passes the ones it means in `overrides`.
 */
const DEVELOPER_SETTINGS = /^(BRIDGE_|UPSTASH_|EDGEBUS_DEV_|EDGEBUS_API_)|^(DATABASE_URL|REDIS_URL|KAFKA_BROKERS)$/;

export function scrubbedEnv(overrides: Readonly<Record<string, string | undefined>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!DEVELOPER_SETTINGS.test(name)) env[name] = value;
  for (const [name, value] of Object.entries(overrides)) if (value !== undefined) env[name] = value;
  return env;
}
