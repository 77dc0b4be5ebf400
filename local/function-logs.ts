/**
 * `.local/logs/<function>.log` holds JSON lines only, so `jq` reads every line. Powertools' logger already
 * writes JSON; anything else a function or its runtime prints (Powertools metrics' plain-text "No application
 * metrics to publish…" warning, a `console.log`, a stack trace, the runtime's START/END/REPORT lines) is
 * wrapped as Lambda's JSON log format wraps plain-text output — `{"timestamp","level","message"}`
 * (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html) — with the
 * function's name, never dropped.
 */
export function toJsonLogLine(functionName: string, line: string, now: Date = new Date()): string {
  const trimmed = line.trim();
  if (trimmed.startsWith('{') && trimmed.endsWith('}')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      // One line per record, also for an object printed over several lines.
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
        return JSON.stringify(parsed);
    } catch {
      // Not JSON after all: wrapped below.
    }
  }
  const level = /^(WARN|WARNING)\b/i.test(trimmed)
    ? 'WARN'
    : /^(ERROR|Error\b|\w*Error:)/.test(trimmed)
      ? 'ERROR'
      : 'INFO';
  return JSON.stringify({ timestamp: now.toISOString(), level, message: line, function: functionName });
}
