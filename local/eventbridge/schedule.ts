/**
 * Schedule expressions of EventBridge rules (`rate(...)`, `cron(...)`) and EventBridge Scheduler schedules
 * (also `at(...)`), parsed and evaluated locally so scheduled rules fire on a laptop as they would in AWS.
 *
 * Reference: Amazon EventBridge User Guide, "Creating an Amazon EventBridge rule that runs on a schedule"
 * (cron fields, wildcards, limitations and examples; rate syntax), and the EventBridge Scheduler User Guide,
 * "Schedule types" (`at(yyyy-mm-ddThh:mm:ss)`). Everything is evaluated in UTC ("All scheduled events use
 * UTC+0 time zone"); the minimum precision is one minute. Where the guide is silent the parser follows the
 * Quartz cron syntax EventBridge's is modelled on (`L-n`, `LW`, bare `L` in day-of-week = Saturday).
 */

/** An expression EventBridge would refuse (`PutRule`: "Parameter ScheduleExpression is not valid."). */
export class InvalidScheduleExpressionError extends Error {
  constructor(
    readonly expression: string,
    reason: string,
  ) {
    super(`Parameter ScheduleExpression is not valid: ${expression}: ${reason}`);
    this.name = 'InvalidScheduleExpressionError';
  }
}

/** `L` (last day), `L-n`, `nW` (nearest weekday) and `LW` in the day-of-month field. */
export type DayOfMonthSpec =
  | { readonly kind: 'any' }
  | { readonly kind: 'days'; readonly days: ReadonlySet<number> }
  | { readonly kind: 'last'; readonly offset: number }
  | { readonly kind: 'nearestWeekday'; readonly day: number }
  | { readonly kind: 'lastWeekday' };

/** Days of week are 1-7 = SUN-SAT; `nL` is the last such day of the month, `d#n` the n-th. */
export type DayOfWeekSpec =
  | { readonly kind: 'any' }
  | { readonly kind: 'days'; readonly days: ReadonlySet<number> }
  | { readonly kind: 'last'; readonly day: number }
  | { readonly kind: 'nth'; readonly day: number; readonly nth: number };

/** A parsed 6-field cron expression. Sets hold the allowed values of each field. */
export interface CronSchedule {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly dayOfMonth: DayOfMonthSpec;
  readonly months: ReadonlySet<number>;
  readonly dayOfWeek: DayOfWeekSpec;
  readonly years: ReadonlySet<number>;
}

export type ScheduleExpression =
  | {
      readonly kind: 'rate';
      readonly text: string;
      readonly value: number;
      readonly unit: 'minute' | 'hour' | 'day';
      readonly periodMs: number;
    }
  | { readonly kind: 'cron'; readonly text: string; readonly cron: CronSchedule }
  | { readonly kind: 'at'; readonly text: string; readonly at: Date };

const MINUTE_MS = 60_000;
const UNIT_MS = { minute: MINUTE_MS, hour: 60 * MINUTE_MS, day: 24 * 60 * MINUTE_MS } as const;
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MIN_YEAR = 1970;
const MAX_YEAR = 2199;

/**
 * Parses `rate(value unit)`, `cron(fields)` and — when `allowAt` (EventBridge Scheduler) — `at(...)`.
 *
 * @throws InvalidScheduleExpressionError as `PutRule` / `CreateSchedule` would reject the expression.
 */
export function parseScheduleExpression(
  text: string,
  options: { allowAt?: boolean } = {},
): ScheduleExpression {
  const match = /^(rate|cron|at)\((.*)\)$/.exec(text.trim());
  if (!match) throw new InvalidScheduleExpressionError(text, 'expected rate(...) or cron(...)');
  const [, kind, body = ''] = match;
  if (kind === 'rate') return { kind: 'rate', text, ...parseRate(text, body) };
  if (kind === 'cron') return { kind: 'cron', text, cron: parseCron(body, text) };
  if (!options.allowAt)
    throw new InvalidScheduleExpressionError(text, 'at() is only valid for EventBridge Scheduler');
  const at = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body.trim());
  if (!at) throw new InvalidScheduleExpressionError(text, 'expected at(yyyy-mm-ddThh:mm:ss)');
  const [, y, mo, d, h, mi, s] = at.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw new InvalidScheduleExpressionError(text, 'not a valid date and time');
  }
  return { kind: 'at', text, at: date };
}

/**
 * "If the value is equal to 1, then the unit must be singular. If the value is greater than 1, the unit must
 * be plural." — `rate(1 hours)` and `rate(5 hour)` are rejected, as the guide says.
 */
function parseRate(
  text: string,
  body: string,
): { value: number; unit: 'minute' | 'hour' | 'day'; periodMs: number } {
  const match = /^\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*$/.exec(body);
  if (!match)
    throw new InvalidScheduleExpressionError(
      text,
      'expected rate(value unit) with unit minute(s), hour(s) or day(s)',
    );
  const value = Number(match[1]);
  const unitText = match[2] as string;
  if (value < 1) throw new InvalidScheduleExpressionError(text, 'the value must be a positive number');
  const plural = unitText.endsWith('s');
  if (value === 1 && plural)
    throw new InvalidScheduleExpressionError(text, 'a value of 1 takes a singular unit');
  if (value > 1 && !plural)
    throw new InvalidScheduleExpressionError(text, 'a value above 1 takes a plural unit');
  const unit = (plural ? unitText.slice(0, -1) : unitText) as 'minute' | 'hour' | 'day';
  return { value, unit, periodMs: value * UNIT_MS[unit] };
}

/**
 * Parses the six fields `minutes hours day-of-month month day-of-week year`.
 *
 * @throws InvalidScheduleExpressionError for a wrong field count, out-of-range values, wildcards a field does
 *   not allow, both or neither of day-of-month and day-of-week being `?`, or `#` in a list.
 */
export function parseCron(fields: string, text = `cron(${fields})`): CronSchedule {
  const parts = fields.trim().split(/\s+/);
  if (parts.length !== 6)
    throw new InvalidScheduleExpressionError(text, `cron takes 6 fields, got ${parts.length}`);
  const [minutes, hours, dom, month, dow, year] = parts as [string, string, string, string, string, string];
  // "You can't specify the Day-of-month and Day-of-week fields in the same cron expression. If you specify a
  // value or a * (asterisk) in one of the fields, you must use a ? (question mark) in the other."
  if ((dom === '?') === (dow === '?')) {
    throw new InvalidScheduleExpressionError(text, 'exactly one of day-of-month and day-of-week must be ?');
  }
  return {
    minutes: [...parseField(minutes, 0, 59, [], text, 'minutes')].sort((a, b) => a - b),
    hours: [...parseField(hours, 0, 23, [], text, 'hours')].sort((a, b) => a - b),
    dayOfMonth: parseDayOfMonth(dom, text),
    months: parseField(month, 1, 12, MONTHS, text, 'month'),
    dayOfWeek: parseDayOfWeek(dow, text),
    years: parseField(year, MIN_YEAR, MAX_YEAR, [], text, 'year'),
  };
}

function parseDayOfMonth(field: string, text: string): DayOfMonthSpec {
  if (field === '?') return { kind: 'any' };
  if (field === 'L') return { kind: 'last', offset: 0 };
  if (field === 'LW') return { kind: 'lastWeekday' };
  const lastOffset = /^L-(\d+)$/.exec(field);
  if (lastOffset) {
    const offset = Number(lastOffset[1]);
    if (offset > 30)
      throw new InvalidScheduleExpressionError(text, `day-of-month L-${offset} is out of range`);
    return { kind: 'last', offset };
  }
  const weekday = /^(\d+)W$/.exec(field);
  if (weekday) {
    const day = Number(weekday[1]);
    if (day < 1 || day > 31)
      throw new InvalidScheduleExpressionError(text, `day-of-month ${day}W is out of range`);
    return { kind: 'nearestWeekday', day };
  }
  return { kind: 'days', days: parseField(field, 1, 31, [], text, 'day-of-month') };
}

function parseDayOfWeek(field: string, text: string): DayOfWeekSpec {
  if (field === '?') return { kind: 'any' };
  // Quartz: "L" by itself in day-of-week "simply means 7 or SAT"; nL is the last such day of the month.
  if (field === 'L') return { kind: 'days', days: new Set([7]) };
  if (field.includes('#')) {
    // "If you use a '#' character, you can define only one expression in the day-of-week field."
    const match = /^([A-Za-z]{3}|\d)#(\d)$/.exec(field);
    if (!match)
      throw new InvalidScheduleExpressionError(
        text,
        `day-of-week ${field}: # takes one day and an instance 1-5`,
      );
    const day = parseValue(match[1] as string, 1, 7, WEEKDAYS, text, 'day-of-week');
    const nth = Number(match[2]);
    if (nth < 1 || nth > 5)
      throw new InvalidScheduleExpressionError(text, `day-of-week ${field}: instance must be 1-5`);
    return { kind: 'nth', day, nth };
  }
  const last = /^([A-Za-z]{3}|\d)L$/.exec(field);
  if (last) return { kind: 'last', day: parseValue(last[1] as string, 1, 7, WEEKDAYS, text, 'day-of-week') };
  return { kind: 'days', days: parseField(field, 1, 7, WEEKDAYS, text, 'day-of-week') };
}

/**
 * One field's list of `*`, `a`, `a-b`, `a/step`, `*\/step`, `a-b/step`. A range whose end is below its start
 * wraps around (`20-2` in hours is 20..23 and 0..2, as in the guide's "0/30 20-2 ? * MON-FRI *" example).
 */
function parseField(
  field: string,
  min: number,
  max: number,
  names: readonly string[],
  text: string,
  label: string,
): Set<number> {
  const values = new Set<number>();
  for (const item of field.split(',')) {
    const match = /^(\*|[A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?(?:\/(\d+))?$/.exec(item);
    if (!match) throw new InvalidScheduleExpressionError(text, `${label} field: ${item} is not valid`);
    const [, startText = '', endText, stepText] = match;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1) throw new InvalidScheduleExpressionError(text, `${label} field: step must be positive`);
    let start: number;
    let end: number;
    if (startText === '*') {
      if (endText !== undefined)
        throw new InvalidScheduleExpressionError(text, `${label} field: * cannot start a range`);
      start = min;
      end = max;
    } else {
      start = parseValue(startText, min, max, names, text, label);
      end =
        endText !== undefined
          ? parseValue(endText, min, max, names, text, label)
          : stepText !== undefined
            ? max
            : start;
    }
    const span = end >= start ? end - start : max - start + 1 + (end - min);
    for (let offset = 0; offset <= span; offset += step) {
      const value = start + offset;
      values.add(value > max ? value - max - 1 + min : value);
    }
  }
  return values;
}

function parseValue(
  token: string,
  min: number,
  max: number,
  names: readonly string[],
  text: string,
  label: string,
): number {
  const named = names.indexOf(token.toUpperCase());
  if (named !== -1) return named + 1;
  if (!/^\d+$/.test(token))
    throw new InvalidScheduleExpressionError(text, `${label} field: ${token} is not valid`);
  const value = Number(token);
  if (value < min || value > max)
    throw new InvalidScheduleExpressionError(text, `${label} field: ${value} is outside ${min}-${max}`);
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// Next fire time
// ---------------------------------------------------------------------------------------------------------

/**
 * The first time strictly after `after` at which the schedule fires, or `undefined` when it never fires again
 * (a cron whose years have passed, an `at()` in the past).
 *
 * A rate "starts when you create the scheduled event rule": it fires at `anchor + k × period`; the anchor
 * defaults to `after`, so the first fire is one period later. Cron fires on whole minutes.
 */
export function nextFireTime(
  expression: ScheduleExpression,
  after: Date,
  anchor: Date = after,
): Date | undefined {
  if (expression.kind === 'at') return expression.at.getTime() > after.getTime() ? expression.at : undefined;
  if (expression.kind === 'rate') {
    const elapsed = after.getTime() - anchor.getTime();
    const periods = elapsed < 0 ? 0 : Math.floor(elapsed / expression.periodMs) + 1;
    return new Date(anchor.getTime() + periods * expression.periodMs);
  }
  return nextCronTime(expression.cron, after);
}

/** The first whole minute strictly after `after` that the cron expression matches. */
export function nextCronTime(cron: CronSchedule, after: Date): Date | undefined {
  const start = new Date(Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS);
  let year = start.getUTCFullYear();
  let month = start.getUTCMonth() + 1;
  let day = start.getUTCDate();
  let first = true;
  while (year <= MAX_YEAR) {
    if (!cron.years.has(year)) {
      year += 1;
      month = 1;
      day = 1;
      first = false;
      continue;
    }
    if (!cron.months.has(month)) {
      [year, month] = month === 12 ? [year + 1, 1] : [year, month + 1];
      day = 1;
      first = false;
      continue;
    }
    const daysInMonth = daysIn(year, month);
    if (day > daysInMonth) {
      [year, month] = month === 12 ? [year + 1, 1] : [year, month + 1];
      day = 1;
      first = false;
      continue;
    }
    if (dayMatches(cron, year, month, day, daysInMonth)) {
      for (const hour of cron.hours) {
        if (first && hour < start.getUTCHours()) continue;
        for (const minute of cron.minutes) {
          if (first && hour === start.getUTCHours() && minute < start.getUTCMinutes()) continue;
          return new Date(Date.UTC(year, month - 1, day, hour, minute));
        }
      }
    }
    day += 1;
    first = false;
  }
  return undefined;
}

function dayMatches(
  cron: CronSchedule,
  year: number,
  month: number,
  day: number,
  daysInMonth: number,
): boolean {
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
  const dom = cron.dayOfMonth;
  switch (dom.kind) {
    case 'any':
      break;
    case 'days':
      if (!dom.days.has(day)) return false;
      break;
    case 'last':
      if (day !== daysInMonth - dom.offset) return false;
      break;
    case 'nearestWeekday':
      if (day !== nearestWeekday(year, month, Math.min(dom.day, daysInMonth), daysInMonth)) return false;
      break;
    case 'lastWeekday':
      if (day !== nearestWeekday(year, month, daysInMonth, daysInMonth)) return false;
      break;
  }
  const dow = cron.dayOfWeek;
  switch (dow.kind) {
    case 'any':
      return true;
    case 'days':
      return dow.days.has(weekday);
    case 'last':
      return weekday === dow.day && day + 7 > daysInMonth;
    case 'nth':
      return weekday === dow.day && Math.ceil(day / 7) === dow.nth;
  }
}

/**
 * "3W specifies the weekday closest to the third day of the month" — a Saturday moves to the Friday before,
 * a Sunday to the Monday after, never across the month's boundary (Quartz semantics).
 */
function nearestWeekday(year: number, month: number, day: number, daysInMonth: number): number {
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  if (weekday === 6) return day === 1 ? 3 : day - 1;
  if (weekday === 0) return day === daysInMonth ? day - 2 : day + 1;
  return day;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
