import { DrError } from '../../errors';
import { FeatureRecordSchema, type FeatureRecord } from '../../feature-snapshot';

/** Turning feature-snapshot JSON lines into Redis commands (pure). */

/** A record line that is not a valid feature record: the snapshot writer is broken, nothing is replayed. */
export class MalformedFeatureRecordError extends DrError {
  override name = 'MalformedFeatureRecordError';
}

/**
 * Splits a byte stream into lines at `\n` (a trailing `\r` is dropped), holding only the
 * unfinished line between chunks; multi-byte UTF-8 characters split across chunks are
 * decoded whole because lines are decoded only once complete.
 */
export class LineSplitter {
  private pending: Buffer[] = [];

  push(chunk: Uint8Array): string[] {
    const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const lines: string[] = [];
    let start = 0;
    for (let nl = buffer.indexOf(0x0a, start); nl !== -1; nl = buffer.indexOf(0x0a, start)) {
      this.pending.push(buffer.subarray(start, nl));
      lines.push(this.takePending());
      start = nl + 1;
    }
    if (start < buffer.length) this.pending.push(Buffer.from(buffer.subarray(start)));
    return lines;
  }

  /** The last line when the stream did not end with a newline. */
  end(): string[] {
    return this.pending.length > 0 ? [this.takePending()] : [];
  }

  private takePending(): string {
    const line = Buffer.concat(this.pending).toString('utf8');
    this.pending = [];
    return line.endsWith('\r') ? line.slice(0, -1) : line;
  }
}

export function parseFeatureLine(line: string, where: string): FeatureRecord {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new MalformedFeatureRecordError(`${where}: not JSON`, { where });
  }
  const parsed = FeatureRecordSchema.safeParse(json);
  if (!parsed.success)
    throw new MalformedFeatureRecordError(
      `${where}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(record)'} ${i.message}`).join('; ')}`,
      { where },
    );
  return parsed.data;
}

export type RedisCommand = [command: string, ...args: string[]];

/** Absolute expiry of a record: snapshot time + the TTL it had left then; undefined when it has none. */
export function expiresAtMs(record: FeatureRecord, snapshotCreatedAtMs: number): number | undefined {
  return record.ttl === undefined ? undefined : snapshotCreatedAtMs + Math.round(record.ttl * 1000);
}

/**
 * Commands that make the key exactly what the snapshot holds (replace, so replaying twice
 * gives the same state), or 'expired' when its TTL ran out since the snapshot: such keys
 * are left alone.
 */
export function replayCommands(
  record: FeatureRecord,
  snapshotCreatedAtMs: number,
  nowMs: number,
): RedisCommand[] | 'expired' {
  const expireAt = expiresAtMs(record, snapshotCreatedAtMs);
  if (expireAt !== undefined && expireAt <= nowMs) return 'expired';
  if ('value' in record)
    return [['SET', record.key, record.value, ...(expireAt !== undefined ? ['PXAT', String(expireAt)] : [])]];
  return [
    ['DEL', record.key],
    ['HSET', record.key, ...Object.entries(record.fields).flat()],
    ...(expireAt !== undefined ? [['PEXPIREAT', record.key, String(expireAt)] as RedisCommand] : []),
  ];
}
