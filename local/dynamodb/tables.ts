import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  type LocalSecondaryIndex,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { LocalTemplate } from '../template.ts';

type Properties = Record<string, unknown>;

/** CreateTable input for a template table: keys, attributes, GSIs and LSIs as declared. */
export function createTableInput(name: string, properties: Properties): CreateTableCommandInput {
  const projection = (index: Properties) =>
    (index.Projection ?? { ProjectionType: 'ALL' }) as GlobalSecondaryIndex['Projection'];
  return {
    TableName: name,
    KeySchema: properties.KeySchema as KeySchemaElement[],
    AttributeDefinitions: properties.AttributeDefinitions as AttributeDefinition[],
    BillingMode: 'PAY_PER_REQUEST',
    ...(Array.isArray(properties.GlobalSecondaryIndexes) && properties.GlobalSecondaryIndexes.length
      ? {
          GlobalSecondaryIndexes: (properties.GlobalSecondaryIndexes as Properties[]).map((index) => ({
            IndexName: String(index.IndexName),
            KeySchema: index.KeySchema as KeySchemaElement[],
            Projection: projection(index),
          })),
        }
      : {}),
    ...(Array.isArray(properties.LocalSecondaryIndexes) && properties.LocalSecondaryIndexes.length
      ? {
          LocalSecondaryIndexes: (properties.LocalSecondaryIndexes as Properties[]).map((index) => ({
            IndexName: String(index.IndexName),
            KeySchema: index.KeySchema as KeySchemaElement[],
            Projection: projection(index) as LocalSecondaryIndex['Projection'],
          })),
        }
      : {}),
    ...(properties.StreamSpecification
      ? { StreamSpecification: { StreamEnabled: true, ...(properties.StreamSpecification as Properties) } }
      : {}),
  };
}

/**
 * Creates the template's tables in DynamoDB Local (existing ones, from a persisted `.local/`, are
 * kept), with TTL enabled where the template enables it. Returns the table names.
 */
export async function createTables(client: DynamoDBClient, template: LocalTemplate): Promise<string[]> {
  const names: string[] = [];
  for (const table of template.ofType('AWS::DynamoDB::Table')) {
    names.push(table.name);
    try {
      await client.send(new DescribeTableCommand({ TableName: table.name }));
      continue;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    await client.send(new CreateTableCommand(createTableInput(table.name, table.properties)));
    const ttl = table.properties.TimeToLiveSpecification as
      | { AttributeName?: string; Enabled?: boolean }
      | undefined;
    if (ttl?.Enabled && ttl.AttributeName) {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: table.name,
          TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
        }),
      );
    }
  }
  return names;
}
