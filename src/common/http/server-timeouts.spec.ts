import { createServer } from 'node:http';
import { applyServerTimeouts } from './server-timeouts';

describe('applyServerTimeouts', () => {
  it('keeps idle connections for the configured time, headers 1 s longer, the request limit untouched', () => {
    const server = createServer();
    expect(server.keepAliveTimeout).toBe(5000); // Node's default, the one this replaces
    applyServerTimeouts(server, 65000);
    expect(server.keepAliveTimeout).toBe(65000);
    expect(server.headersTimeout).toBe(66000);
    expect(server.requestTimeout).toBe(300000);
  });

  it('raises the request limit when keep-alive goes beyond it', () => {
    const server = createServer();
    applyServerTimeouts(server, 620000);
    expect(server.headersTimeout).toBe(621000);
    expect(server.requestTimeout).toBe(621000);
  });
});
