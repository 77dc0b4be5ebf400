import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { HubTable } from './hub-table.ts';

/**
 * Lets a function write trace checkpoints (shared/ops/trace.ts): the table's name in `TRACE_TABLE_NAME`
 * and `dynamodb:BatchWriteItem` on it (one call per step: the checkpoints and their refs) — checkpoints are
 * only ever put, never read back by the flows.
 */
export function enableTrace(fn: LambdaFunction, traceTable: HubTable): void {
  fn.addEnvironment('TRACE_TABLE_NAME', traceTable.tableName);
  traceTable.grant(fn, 'dynamodb:BatchWriteItem');
}
