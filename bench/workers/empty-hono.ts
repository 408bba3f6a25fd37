/**
 * The producer benchmark's baseline: a Hono app with the producer's two publish routes and
 * nothing behind them. It reads the whole body (as the producer must) and answers 202 with a
 * small JSON body, so the difference to the producer is the producer's own work: auth, parsing,
 * validation, routing, dedup, rate limit and queue sends.
 */
import { Hono } from "hono";

const app = new Hono();

app.post("/v1/events", async (c) => {
  const body = await c.req.text();
  return c.json({ status: "accepted", bytes: body.length }, 202);
});

app.post("/v1/events/batch", async (c) => {
  const body = await c.req.text();
  return c.json({ status: "accepted", bytes: body.length }, 202);
});

export default app;
