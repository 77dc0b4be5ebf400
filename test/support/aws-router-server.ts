import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AwsJsonRouter } from '#local/aws/json-protocol.ts';
import { readRequestBody } from '#local/http.ts';

/** Serves an AwsJsonRouter on a loopback port, so tests can drive it with the real AWS SDK clients. */
export async function serveRouter(
  router: AwsJsonRouter,
): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    const body = await readRequestBody(req, 1024 * 1024);
    if (!(await router.handle(req, res, body))) {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export const localClientConfig = (endpoint: string) => ({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
