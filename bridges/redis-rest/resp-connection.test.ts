import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceUrls } from "../../scripts/service-probe.ts";
import { requireService } from "../../test/support/services.ts";
import { RedisReplyError, type RespReply } from "./resp-codec.ts";
import { RespConnection, RespConnectionError, respOptionsLike } from "./resp-connection.ts";

const available = await requireService("redis", "redis-rest RESP connection");

/** A connection to the test Redis as `username`, on database `db`. */
function connectAs(username: string, password: string, db = 0): RespConnection {
  const url = new URL(serviceUrls.redis);
  return new RespConnection({ host: url.hostname, port: Number(url.port || 6379), username, password, db });
}

const text = (reply: RespReply | undefined) =>
  reply instanceof Uint8Array ? Buffer.from(reply).toString("utf8") : reply;

describe.skipIf(!available)("RespConnection against Redis", () => {
  let admin: Redis;
  let connection: RespConnection;
  const prefix = `t:resp:${randomUUID()}:`;
  const user = `edgebus-test-resp-${randomBytes(4).toString("hex")}`;
  const password = randomBytes(16).toString("hex");

  beforeAll(async () => {
    admin = new Redis(serviceUrls.redis, { maxRetriesPerRequest: 1 });
    connection = new RespConnection(respOptionsLike(admin));
    await admin.call("ACL", "SETUSER", user, "on", `>${password}`, "~t:resp:*", "+@all");
  });
  afterAll(async () => {
    await connection.close();
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.call("ACL", "DELUSER", user);
    await admin.quit();
  });

  it("answers a pipeline in order, error replies in place, values byte for byte", async () => {
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const replies = await connection.send([
      ["SET", `${prefix}bin`, binary],
      ["GET", `${prefix}bin`],
      ["INCR", `${prefix}bin`],
      ["HSET", `${prefix}h`, "f", "v"],
      ["HGETALL", `${prefix}h`],
      ["GET", `${prefix}missing`],
      ["EVAL", "return {1, 'two', redis.error_reply('ERR three')}", "0"],
    ]);
    expect(text(replies[0])).toBe("OK");
    expect(Buffer.from(replies[1] as Buffer).equals(binary)).toBe(true);
    expect(replies[2]).toBeInstanceOf(RedisReplyError);
    expect((replies[2] as Error).message).toMatch(/^ERR value is not an integer/);
    expect(replies[3]).toBe(1);
    expect((replies[4] as RespReply[]).map(text)).toEqual(["f", "v"]);
    expect(replies[5]).toBeNull();
    const [one, two, three] = replies[6] as RespReply[];
    expect([one, text(two)]).toEqual([1, "two"]);
    expect(three).toMatchObject({ name: "ReplyError", message: "ERR three" });
  });

  it("sends the pipelines of one event-loop turn in one write, and each gets its own replies", async () => {
    await connection.send([["PING"]]);
    const before = connection.writes;
    const answers = await Promise.all([
      connection.send([
        ["SET", `${prefix}turn`, "1"],
        ["INCR", `${prefix}turn`],
      ]),
      connection.send([["INCR", `${prefix}turn`]]),
      connection.send([["GET", `${prefix}turn`]]),
    ]);
    expect(connection.writes - before).toBe(1);
    expect(answers.map((replies) => replies.map(text))).toEqual([["OK", 2], [3], ["3"]]);
  });

  it("reads a reply of several megabytes whole", async () => {
    const value = randomBytes(5 * 1024 * 1024);
    const [, read] = await connection.send([
      ["SET", `${prefix}big`, value, "EX", "60"],
      ["GET", `${prefix}big`],
    ]);
    expect(Buffer.from(read as Buffer).equals(value)).toBe(true);
  });

  it("logs in as an ACL user and selects the database before anything it was given", async () => {
    const as = connectAs(user, password, 3);
    try {
      const [set, whoami] = await as.send([
        ["SET", `${prefix}db3`, "x"],
        ["ACL", "WHOAMI"],
      ]);
      expect([text(set), text(whoami)]).toEqual(["OK", user]);
      const [denied] = await as.send([["GET", "not-under-the-users-pattern"]]);
      expect((denied as Error).message).toMatch(/^NOPERM/);
      await admin.select(3);
      expect(await admin.get(`${prefix}db3`)).toBe("x");
      await admin.del(`${prefix}db3`);
    } finally {
      await admin.select(0);
      await as.close();
    }
  });

  it("rejects with RespConnectionError when Redis refuses the password, sending nothing else", async () => {
    const wrong = connectAs(user, "nope");
    try {
      const sent = wrong.send([["SET", `${prefix}never`, "x"]]);
      await expect(sent).rejects.toBeInstanceOf(RespConnectionError);
      await expect(sent).rejects.toThrow(/WRONGPASS/);
      expect(await admin.exists(`${prefix}never`)).toBe(0);
    } finally {
      await wrong.close();
    }
  });

  it("serves nothing when SELECT is refused, rather than run on database 0", async () => {
    await admin.call("ACL", "SETUSER", `${user}-noselect`, "on", `>${password}`, "~t:resp:*", "+@all", "-select");
    const as = connectAs(`${user}-noselect`, password, 3);
    try {
      await expect(as.send([["SET", `${prefix}db0`, "x"]])).rejects.toThrow(/could not connect to Redis: .*NOPERM/);
      expect(await admin.exists(`${prefix}db0`)).toBe(0);
    } finally {
      await as.close();
      await admin.call("ACL", "DELUSER", `${user}-noselect`);
    }
  });

  it("fails what was in flight when the connection drops, then reconnects for the next pipeline", async () => {
    const [id] = await connection.send([["CLIENT", "ID"]]);
    const held = expect(connection.send([["BLPOP", `${prefix}never-pushed`, "5"]])).rejects.toBeInstanceOf(
      RespConnectionError,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await admin.call("CLIENT", "KILL", "ID", String(id));
    await held;
    const [pong, newId] = await connection.send([["PING"], ["CLIENT", "ID"]]);
    expect(text(pong)).toBe("PONG");
    expect(newId).not.toBe(id);
  });

  it("fails fast with RespConnectionError when nothing listens, and keeps trying", async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const nowhere = new RespConnection({ host: "127.0.0.1", port });
    try {
      await expect(nowhere.send([["PING"]])).rejects.toThrow(/could not connect to Redis: .*ECONNREFUSED/);
      await expect(nowhere.send([["PING"]])).rejects.toBeInstanceOf(RespConnectionError);
    } finally {
      await nowhere.close();
    }
  });

  it("rejects what waits, and everything after, once closed", async () => {
    const closing = new RespConnection(respOptionsLike(admin));
    await closing.send([["PING"]]);
    const held = expect(closing.send([["BLPOP", `${prefix}never-pushed`, "5"]])).rejects.toThrow(
      "Connection is closed.",
    );
    await closing.close();
    await held;
    await expect(closing.send([["PING"]])).rejects.toThrow("Connection is closed.");
  });

  describe("over TLS", () => {
    let dir: string;
    let proxy: tls.Server;
    let port: number;
    let cert: Buffer;

    // A TLS server in front of the test Redis (a throwaway self-signed certificate for localhost),
    // as a managed Redis serves `rediss://`.
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "edgebus-resp-tls-"));
      const [keyFile, certFile] = [join(dir, "key.pem"), join(dir, "cert.pem")];
      execFileSync(
        "openssl",
        ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"].concat([
          "-keyout",
          keyFile,
          "-out",
          certFile,
          "-subj",
          "/CN=localhost",
          "-addext",
          "subjectAltName=DNS:localhost",
        ]),
        { stdio: "ignore" },
      );
      cert = await readFile(certFile);
      const redisUrl = new URL(serviceUrls.redis);
      proxy = tls.createServer({ key: await readFile(keyFile), cert }, (client) => {
        const upstream = net.connect(Number(redisUrl.port || 6379), redisUrl.hostname);
        client.pipe(upstream).pipe(client);
        const end = () => {
          client.destroy();
          upstream.destroy();
        };
        client.on("error", end).on("close", end);
        upstream.on("error", end).on("close", end);
      });
      port = await new Promise<number>((resolve) =>
        proxy.listen(0, "127.0.0.1", () => resolve((proxy.address() as net.AddressInfo).port)),
      );
    });
    afterAll(async () => {
      await new Promise((resolve) => proxy.close(resolve));
      await rm(dir, { recursive: true, force: true });
    });

    it("talks RESP over TLS to a server its CA vouches for, as the gateway's rediss:// URL makes it", async () => {
      const fromUrl = new Redis(`rediss://${user}:${password}@localhost:${port}/2`, {
        lazyConnect: true,
        tls: { ca: cert },
      });
      const options = respOptionsLike(fromUrl);
      expect(options).toMatchObject({ host: "localhost", port, username: user, db: 2, tls: { ca: cert } });
      const secure = new RespConnection(options);
      try {
        const [set, whoami] = await secure.send([
          ["SET", `${prefix}tls`, "x", "EX", "60"],
          ["ACL", "WHOAMI"],
        ]);
        expect([text(set), text(whoami)]).toEqual(["OK", user]);
      } finally {
        await secure.close();
        fromUrl.disconnect();
      }
    });

    it("refuses a server certificate no CA vouches for", async () => {
      const plainUrl = new Redis(`rediss://localhost:${port}`, { lazyConnect: true });
      expect(respOptionsLike(plainUrl).tls).toEqual({});
      const untrusted = new RespConnection(respOptionsLike(plainUrl));
      try {
        await expect(untrusted.send([["PING"]])).rejects.toThrow(/could not connect to Redis: .*self[- ]signed/);
      } finally {
        await untrusted.close();
        plainUrl.disconnect();
      }
    });
  });
});
