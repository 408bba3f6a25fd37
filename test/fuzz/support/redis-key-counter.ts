/**
 * Counts keys matching a pattern in one Redis database, straight from Redis (not through the
 * REST gateway under test). Node only; globalSetups load it with tsx (`tsImport`), because the
 * workerd projects' Vite resolution cannot load ioredis (workers-sdk#6465).
 */
import { Redis } from "ioredis";

export interface RedisKeyCounter {
  count(pattern: string): Promise<number>;
  close(): Promise<void>;
}

export function redisKeyCounter(redisUrl: string): RedisKeyCounter {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  return {
    async count(pattern) {
      let cursor = "0";
      let count = 0;
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
        cursor = next;
        count += keys.length;
      } while (cursor !== "0");
      return count;
    },
    async close() {
      await redis.quit();
    },
  };
}
