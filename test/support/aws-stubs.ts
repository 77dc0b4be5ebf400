import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PutEventsEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  EventBusName: string;
}

/**
 * A minimal AWS JSON-protocol endpoint for EventBridge PutEvents and Secrets Manager GetSecretValue,
 * enough to run a real handler module with real SDK clients (reached through AWS_ENDPOINT_URL_*).
 * It can reject the next PutEvents calls as EventBridge does (FailedEntryCount) and delay them.
 */
export class AwsStub {
  readonly entries: PutEventsEntry[] = [];
  readonly secrets = new Map<string, string>();
  putEventsCalls = 0;
  failNextPutEvents = 0;
  putEventsDelayMs = 0;
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        const input = JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>;
        const reply = (status: number, body: object) => {
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify(body));
        };
        if (target === 'AWSEvents.PutEvents') {
          this.putEventsCalls += 1;
          if (this.putEventsDelayMs)
            await new Promise((resolve) => setTimeout(resolve, this.putEventsDelayMs));
          const entries = input.Entries as PutEventsEntry[];
          if (this.failNextPutEvents > 0) {
            this.failNextPutEvents -= 1;
            return reply(200, {
              FailedEntryCount: entries.length,
              Entries: entries.map(() => ({ ErrorCode: 'InternalFailure', ErrorMessage: 'injected' })),
            });
          }
          this.entries.push(...entries);
          return reply(200, {
            FailedEntryCount: 0,
            Entries: entries.map((_, index) => ({ EventId: `stub-${this.entries.length + index}` })),
          });
        }
        if (target === 'secretsmanager.GetSecretValue') {
          const id = String(input.SecretId);
          const value = this.secrets.get(id);
          if (value === undefined) {
            return reply(400, {
              __type: 'ResourceNotFoundException',
              message: `Secrets Manager can't find ${id}`,
            });
          }
          return reply(200, {
            ARN: id,
            Name: id,
            SecretString: value,
            VersionId: 'v1',
            VersionStages: ['AWSCURRENT'],
          });
        }
        reply(400, { __type: 'UnknownOperationException', message: target });
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
