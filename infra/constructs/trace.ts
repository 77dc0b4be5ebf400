import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { HubTable } from './hub-table.ts';

/**
 * Lets a function write trace checkpoints (shared/ops/trace.ts): the table's name in `TRACE_TABLE_NAME`
 * and `dynamodb:PutItem` on it — checkpoints are only ever put, never read back by the flows.
 */
export function enableTrace(fn: LambdaFunction, traceTable: HubTable): void {
  fn.addEnvironment('TRACE_TABLE_NAME', traceTable.tableName);
  traceTable.grant(fn, 'dynamodb:PutItem');
}
