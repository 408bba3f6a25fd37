/** One file of the operator console, embedded in the producer by `npm run generate`. */
export interface ConsolePage {
  /** `Content-Type` header value. */
  readonly contentType: string;
  /** Strong ETag (quoted) of `body`: changes whenever the file does. */
  readonly etag: string;
  readonly body: string;
}
