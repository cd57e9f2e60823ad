import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createHttpServer } from '../../src/http/server.js';

/**
 * The server keeps idle keep-alive connections open for HTTP_KEEP_ALIVE_TIMEOUT_MS (65 s by default,
 * longer than clients and proxies keep theirs), so that it is never the side that closes first.
 */
describe('HTTP keep-alive', () => {
  it('defaults to 65 s, with the header timeout above it', () => {
    const server = createHttpServer(() => {}, loadConfig({}));
    expect(server.keepAliveTimeout).toBe(65_000);
    expect(server.headersTimeout).toBeGreaterThan(65_000);
  });

  it('keeps an idle connection open for the configured time, then closes it', async () => {
    const server = createHttpServer((_req, res) => res.end('ok'), loadConfig({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '1500' }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const socket = connect(port, '127.0.0.1');
      let received = '';
      let closedAt = 0;
      socket.on('data', (d) => (received += d.toString()));
      socket.on('close', () => (closedAt = performance.now()));
      const request = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
      socket.write(request);
      await new Promise((r) => setTimeout(r, 1000));
      // Idle for 1 s, less than the timeout: still open, and it answers again.
      expect(closedAt).toBe(0);
      socket.write(request);
      const idleFrom = performance.now();
      await new Promise((r) => setTimeout(r, 3000));
      expect(received.match(/HTTP\/1.1 200/g)).toHaveLength(2);
      expect(closedAt).toBeGreaterThan(0);
      expect(closedAt - idleFrom).toBeGreaterThanOrEqual(1400);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
