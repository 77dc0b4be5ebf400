import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * Stands in for `@aws-sdk/credential-provider-node` in the function bundles only (esbuild alias in
 * infra/constructs/bundling.ts; tests, scripts and the local cloud's own clients keep the full chain).
 * Lambda gives a function its execution role's credentials in `AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` ("Defined runtime environment variables",
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
 * the first link of the default chain; the local cloud sets the same three. The other links (SSO, ini
 * files, credential processes, web identity, IMDS/container) and the STS/SSO clients they pull in were
 * about 95 KB of every bundle that no invocation ever reached.
 */
export const defaultProvider: typeof import('@aws-sdk/credential-provider-node').defaultProvider = (
  init = {},
) => fromEnv(init);

/** As `@aws-sdk/credential-provider-node` exports them (the clients import them by name). */
export const credentialsWillNeedRefresh = (credentials?: { expiration?: Date }): boolean =>
  credentials?.expiration !== undefined;
export const credentialsTreatedAsExpired = (credentials?: { expiration?: Date }): boolean =>
  credentials?.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300_000;
