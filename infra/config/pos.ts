import { type EnvironmentConfig, vendorUrlPattern } from './environments.ts';

/** The POS (Square) account the hub reads orders from. */
export interface PosConfig {
  /**
   * Square API base URL (`-c squareBaseUrl=`; the local cloud points it at its sandbox).
   * @default SQUARE_PRODUCTION_BASE_URL
   */
  readonly squareBaseUrl?: string;
  /**
   * The notification URL registered with Square, which Square signs (`-c squareNotificationUrl=`).
   * Needed only when it differs from the URL API Gateway reports — a custom domain with an API mapping
   * (its key is missing from `rawPath`) or a proxy in front of the API.
   * @default the URL of the request, as API Gateway saw it
   */
  readonly notificationUrl?: string;
  /**
   * The Square merchants (seller accounts) this environment serves: a signed notification for any other
   * is parked, never published. Required by the operator config of deployed environments.
   * @default any merchant (dev)
   */
  readonly merchantIds?: readonly string[];
}

function urlOption(environment: string, name: string, value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !vendorUrlPattern(environment).test(value))
    throw new Error(`-c ${name} must be an ${environment === 'dev' ? 'http(s)' : 'https'} URL`);
  return value;
}

/** Applies `-c squareBaseUrl=` and `-c squareNotificationUrl=` to an environment (validated, fail-fast). */
export function withPosOverrides(
  config: EnvironmentConfig,
  squareBaseUrl: unknown,
  notificationUrl: unknown,
): EnvironmentConfig {
  const baseUrl = urlOption(config.name, 'squareBaseUrl', squareBaseUrl);
  const notification = urlOption(config.name, 'squareNotificationUrl', notificationUrl);
  if (baseUrl === undefined && notification === undefined) return config;
  return {
    ...config,
    pos: {
      ...config.pos,
      ...(baseUrl !== undefined ? { squareBaseUrl: baseUrl } : {}),
      ...(notification !== undefined ? { notificationUrl: notification } : {}),
    },
  };
}
