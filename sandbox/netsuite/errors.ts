import { HttpError } from '../core/http.ts';

const TYPES: Record<number, [string, string]> = {
  400: ['https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1', 'Bad Request'],
  401: ['https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.2', 'Unauthorized'],
  403: ['https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.4', 'Forbidden'],
  404: ['https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.5', 'Not Found'],
  405: ['https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.6', 'Method Not Allowed'],
  413: ['https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.14', 'Request Entity Too Large'],
  415: ['https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.16', 'Unsupported Media Type'],
  429: ['https://www.rfc-editor.org/rfc/rfc6585.html#section-4', 'Too Many Requests'],
  500: ['https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.1', 'Internal Server Error'],
  502: ['https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.3', 'Bad Gateway'],
  503: ['https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.4', 'Service Unavailable'],
};

/** Optional pointers NetSuite adds to an error detail. */
export interface NsErrorPointers {
  'o:errorPath'?: string;
  'o:urlPath'?: string;
  'o:errorHeader'?: string;
  'o:errorQueryParam'?: string;
}

/** One NetSuite REST error body: `{type, title, status, o:errorDetails:[{detail, o:errorCode, …}]}`. */
export interface NsErrorBody {
  type: string;
  title: string;
  status: number;
  'o:errorDetails': Array<{ detail: string; 'o:errorCode': string } & NsErrorPointers>;
}

/**
 * Builds an error in the shape NetSuite REST web services document ("Error
 * Handling in REST Web Services": status, o:errorDetails[].detail,
 * o:errorCode and optional o:errorPath / o:urlPath / o:errorHeader /
 * o:errorQueryParam), so the hub's error mapping is exercised for real.
 */
export function nsError(
  status: number,
  code: string,
  detail: string,
  pointers: NsErrorPointers = {},
  headers: Record<string, string> = {},
): HttpError {
  const [type, title] = TYPES[status] ?? ['https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html', 'Error'];
  const body: NsErrorBody = {
    type,
    title,
    status,
    'o:errorDetails': [{ detail, 'o:errorCode': code, ...pointers }],
  };
  return new HttpError(status, body, headers);
}

/** The 429 answer for requests over the account's concurrency limit. */
export const concurrencyLimitError = (limit: number): HttpError =>
  nsError(
    429,
    'SSS_REQUEST_LIMIT_EXCEEDED',
    `Concurrent request limit exceeded. The account allows ${limit} concurrent requests; request blocked. Retry later.`,
  );

/** The 401 answer NetSuite documents for an invalid or expired login token. */
export const invalidLoginError = (): HttpError =>
  nsError(
    401,
    'INVALID_LOGIN',
    'Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.',
  );
