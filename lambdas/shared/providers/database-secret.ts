import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { InvalidInputError } from '../errors';
import { regionOf, type ProviderContext } from './provider';

/**
 * Database passwords from Secrets Manager, read in the orchestrator's own region (static
 * stability): the topology names each database's secret in the database's region, and the
 * secret is replicated to every orchestrator region under the same name, so a failover into
 * region X reads X's replica and never calls the failed region.
 */

/** The ARN of a secret's replica in `region` (same account, name and suffix). */
export function sameRegionSecretArn(arn: string, region: string): string {
  const parts = arn.split(':');
  if (parts.length < 7 || parts[0] !== 'arn' || parts[2] !== 'secretsmanager' || parts[5] !== 'secret')
    throw new InvalidInputError(`'${arn}' is not a Secrets Manager secret ARN`);
  parts[3] = region;
  return parts.join(':');
}

/**
 * The password in a secret string: the `password` field of the JSON RDS and Secrets Manager
 * rotation write (`{"username": …, "password": …}`), or the whole string when it is not JSON.
 */
export function passwordFromSecretString(secretString: string, arn: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    if (secretString.length === 0) throw new InvalidInputError(`secret ${arn} is empty`);
    return secretString;
  }
  if (typeof parsed === 'string' && parsed.length > 0) return parsed;
  const password = (parsed as { password?: unknown } | null)?.password;
  if (typeof password !== 'string' || password.length === 0)
    throw new InvalidInputError(`secret ${arn} is JSON without a non-empty "password" field`);
  return password;
}

export interface SecretPasswordOptions {
  /** How long a read password is reused before it is read again (rotation). @default 300000 (5 min) */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

/**
 * A password source (pg accepts a function) that reads `arn` in the client's region once and
 * reuses it for `ttlMs`, so every new connection does not call Secrets Manager.
 */
export function secretPassword(
  client: SecretsManagerClient,
  arn: string,
  options: SecretPasswordOptions = {},
): () => Promise<string> {
  const ttlMs = options.ttlMs ?? 300_000;
  const now = options.now ?? Date.now;
  let cached: { value: string; at: number } | undefined;
  return async () => {
    if (cached && now() - cached.at < ttlMs) return cached.value;
    const out = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    if (typeof out.SecretString !== 'string')
      throw new InvalidInputError(`secret ${arn} has no SecretString (binary secrets are not supported)`);
    cached = { value: passwordFromSecretString(out.SecretString, arn), at: now() };
    return cached.value;
  };
}

/**
 * The operator password source of `region`'s database for callers outside the PostgreSQL
 * adapter (the smoke sink): its topology secret, read in the orchestrator's region; none
 * when the topology names no secret (trust auth, the sandbox).
 */
export function operatorPasswordOf(
  ctx: ProviderContext,
  region: string,
  client: () => SecretsManagerClient,
): (() => Promise<string>) | undefined {
  const arn = regionOf(ctx.topology, region).postgres.passwordSecretArn;
  return arn ? secretPassword(client(), sameRegionSecretArn(arn, ctx.region)) : undefined;
}
