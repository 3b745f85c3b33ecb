import { PutObjectCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { DrError } from '../../lambdas/shared/errors';
import type { S3Like } from './object-store';

/**
 * Deterministic faults between the sync and a real S3 endpoint (moto in tests and the
 * benchmark), so interruption, damage and flaky networks are exercised against a real
 * server rather than a mock:
 *
 * - `interruptAfterParts: N` — once N UploadPart calls have succeeded, every later call
 *   fails with SimulatedInterruptionError (the process "dies"; uploads already in flight
 *   still land, as they would);
 * - `corruptParts` — flips one byte of the body of a given part (optionally of one key),
 *   keeping the checksum headers computed over the original: the bytes arrive damaged;
 * - `transientFailures` — the first `times` matching calls throw a retryable error (a 503
 *   SlowDown, a connection reset) before reaching the server.
 *
 * It also counts what went through: every UploadPart/PutObject by key and part number.
 */
export class SimulatedInterruptionError extends DrError {
  override name = 'SimulatedInterruptionError';
}

export interface CorruptPart {
  partNumber: number;
  /** Only this object key; @default any key */
  key?: string;
  /** How many uploads of the part to damage. @default 1 */
  times?: number;
}

export interface TransientFailure {
  /** Command name without `Command`, e.g. `UploadPart`, `GetObject`, `CompleteMultipartUpload`. */
  command: string;
  partNumber?: number;
  times: number;
  /** @default 'SlowDown' */
  kind?: 'SlowDown' | 'ECONNRESET' | 'InternalError';
}

export interface FaultPlan {
  interruptAfterParts?: number;
  corruptParts?: CorruptPart[];
  transientFailures?: TransientFailure[];
}

export interface SentPart {
  key: string;
  partNumber: number;
  bytes: number;
  corrupted: boolean;
  /** The call succeeded (S3 answered). */
  ok: boolean;
}

export interface FaultStats {
  /** Every UploadPart (and single-object PutObject, as part 1) that reached the server. */
  sent: SentPart[];
  /** Calls that failed with an injected transient error, by command. */
  transientInjected: Record<string, number>;
  corruptedInjected: number;
  interrupted: boolean;
  /** Calls by command name that reached the server. */
  calls: Record<string, number>;
}

type AnyCommand = { input: Record<string, unknown>; constructor: { name: string } };

const commandName = (command: AnyCommand) => command.constructor.name.replace(/Command$/, '');

function transientError(kind: TransientFailure['kind'], what: string): Error {
  if (kind === 'ECONNRESET')
    return Object.assign(new Error(`simulated connection reset during ${what}`), { code: 'ECONNRESET' });
  const name = kind ?? 'SlowDown';
  return Object.assign(new Error(`simulated ${name} during ${what}`), {
    name,
    $metadata: { httpStatusCode: name === 'SlowDown' ? 503 : 500 },
    $fault: 'server',
  });
}

function flipByte(body: unknown): Buffer {
  if (!(body instanceof Uint8Array)) throw new Error('fault injection can only damage Buffer bodies');
  const copy = Buffer.from(body);
  if (copy.length > 0) copy[Math.floor(copy.length / 2)]! ^= 0xff;
  return copy;
}

export class FaultInjectingS3 implements S3Like {
  readonly stats: FaultStats = {
    sent: [],
    transientInjected: {},
    corruptedInjected: 0,
    interrupted: false,
    calls: {},
  };
  private readonly corruptLeft: Map<CorruptPart, number>;
  private readonly transientLeft: Map<TransientFailure, number>;
  private partsSucceeded = 0;

  constructor(
    private readonly inner: S3Like,
    private readonly plan: FaultPlan = {},
  ) {
    this.corruptLeft = new Map((plan.corruptParts ?? []).map((c) => [c, c.times ?? 1]));
    this.transientLeft = new Map((plan.transientFailures ?? []).map((t) => [t, t.times]));
  }

  /** Parts (UploadPart) that reached the server for `key`, by part number, counting repeats. */
  putsByPart(key?: string): Map<number, number> {
    const counts = new Map<number, number>();
    for (const s of this.stats.sent)
      if ((key === undefined || s.key === key) && s.partNumber > 0)
        counts.set(s.partNumber, (counts.get(s.partNumber) ?? 0) + 1);
    return counts;
  }

  send = ((command: AnyCommand, options?: unknown) =>
    this.intercept(command, options)) as unknown as S3Client['send'];

  private async intercept(command: AnyCommand, options: unknown): Promise<unknown> {
    const name = commandName(command);
    if (this.stats.interrupted)
      throw new SimulatedInterruptionError(`simulated interruption: ${name} not sent`);
    const input = command.input;
    const partNumber = command instanceof UploadPartCommand ? Number(input.PartNumber) : undefined;
    for (const [failure, left] of this.transientLeft) {
      if (left <= 0 || failure.command !== name) continue;
      if (failure.partNumber !== undefined && failure.partNumber !== partNumber) continue;
      this.transientLeft.set(failure, left - 1);
      this.stats.transientInjected[name] = (this.stats.transientInjected[name] ?? 0) + 1;
      throw transientError(failure.kind, `${name}${partNumber ? ` part ${partNumber}` : ''}`);
    }
    let sendCommand = command;
    let corrupted = false;
    if (partNumber !== undefined) {
      for (const [target, left] of this.corruptLeft) {
        if (left <= 0 || target.partNumber !== partNumber) continue;
        if (target.key !== undefined && target.key !== input.Key) continue;
        this.corruptLeft.set(target, left - 1);
        sendCommand = new UploadPartCommand({
          ...(input as unknown as ConstructorParameters<typeof UploadPartCommand>[0]),
          Body: flipByte(input.Body),
        }) as unknown as AnyCommand;
        corrupted = true;
        this.stats.corruptedInjected++;
        break;
      }
    }
    this.stats.calls[name] = (this.stats.calls[name] ?? 0) + 1;
    const record: SentPart | undefined =
      partNumber !== undefined || command instanceof PutObjectCommand
        ? {
            key: String(input.Key),
            partNumber: partNumber ?? 0,
            bytes: (input.Body as Uint8Array | undefined)?.length ?? 0,
            corrupted,
            ok: false,
          }
        : undefined;
    if (record) this.stats.sent.push(record);
    const send = this.inner.send as unknown as (c: AnyCommand, o?: unknown) => Promise<unknown>;
    const result = await send.call(this.inner, sendCommand, options);
    if (record) record.ok = true;
    if (partNumber !== undefined) {
      this.partsSucceeded++;
      if (this.plan.interruptAfterParts !== undefined && this.partsSucceeded >= this.plan.interruptAfterParts)
        this.stats.interrupted = true;
    }
    return result;
  }
}
