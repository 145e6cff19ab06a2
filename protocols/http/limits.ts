/**
 * Fixed limits of the HTTPS door (the configurable ones live in runtime/config.ts, [http]).
 * Each is a guard against a client holding memory or a connection for nothing.
 */

/** Longest method token read before a request is classified (RPC_OUT_DATA is 12; WebDAV's longest 11). */
export const MAX_METHOD_BYTES = 32;
/** Empty lines tolerated before a request line (RFC 9112 §2.2 asks servers to skip at least one). */
export const MAX_LEADING_EMPTY_LINES = 4;
/** Longest request-target accepted by the door's own HTTP/1.1 handling (Node's parser has its own limit within max_header_kib). */
export const MAX_TARGET_BYTES = 8192;
/** Most header fields in one request (own HTTP/1.1 handling). */
export const MAX_HEADER_FIELDS = 100;
/** Longest chunk-size line (hex digits plus extensions) of a chunked body. */
export const MAX_CHUNK_LINE_BYTES = 1024;
/** Most bytes of trailer fields after the last chunk. */
export const MAX_TRAILER_BYTES = 8192;
/** Unread request body bytes the door discards after a response to keep the connection; more and it closes instead. */
export const MAX_DRAIN_BYTES = 64 * 1024;
/** How long a goodbye (400 / 408 / 431 ...) may take to flush before the socket is destroyed. */
export const GOODBYE_LINGER_MS = 2000;
