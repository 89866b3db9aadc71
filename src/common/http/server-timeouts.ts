import type { Server } from 'node:http';

/**
 * Keep-alive on the HTTP server. Node's default `keepAliveTimeout` (5 s) closes an idle connection before a load
 * balancer with a longer idle timeout (60 s is common) stops using it, and the balancer's next request on it fails
 * (502). The server must be the side that waits longer. `headersTimeout` stays above it, and `requestTimeout` (the
 * whole request; Node's default 300 s) is never below `headersTimeout`.
 */
export function applyServerTimeouts(server: Pick<Server, 'keepAliveTimeout' | 'headersTimeout' | 'requestTimeout'>, keepAliveTimeoutMs: number): void {
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.headersTimeout = keepAliveTimeoutMs + 1000;
  if (server.requestTimeout > 0 && server.requestTimeout < server.headersTimeout) server.requestTimeout = server.headersTimeout;
}
