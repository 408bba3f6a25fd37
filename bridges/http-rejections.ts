/**
 * Answers for requests the bridge's routes never see, in edgebus's one error shape
 * `{error: {code, message, request_id}}`: a path no area serves (Hono's default is a bare
 * text/plain "404 Not Found") and a request Node's HTTP parser refuses before any route runs
 * (oversized headers, malformed request lines, NUL bytes or conflicting framing headers, whose
 * default answer is an empty 400/431).
 */
import { randomUUID } from "node:crypto";
import type { Duplex } from "node:stream";
import type { Context } from "hono";
import { EdgebusError, errorBody } from "#shared/errors.ts";

export function notFoundResponse(c: Context): Response {
  const error = new EdgebusError("not_found", `no route for ${c.req.method} ${c.req.path}`);
  return c.json(errorBody(error, c.req.header("x-request-id") ?? randomUUID()), 404);
}

/** Node's parser error codes for headers over `--max-http-header-size` (16 KiB by default). */
const HEADER_OVERFLOW = new Set(["HPE_HEADER_OVERFLOW"]);

/**
 * `server.on("clientError", answerClientError)`: writes a JSON error and closes the connection
 * (the parser's state is unknown after an error, so the connection cannot be reused). Headers
 * too large answer 431 with code `payload_too_large`; everything else 400 `bad_request`.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = HEADER_OVERFLOW.has(error.code ?? "");
  const failure = tooLarge
    ? new EdgebusError("payload_too_large", "request headers are larger than the server accepts (16 KiB)")
    : new EdgebusError("bad_request", "malformed HTTP request");
  const body = JSON.stringify(errorBody(failure, randomUUID()));
  const status = tooLarge ? "431 Request Header Fields Too Large" : "400 Bad Request";
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
