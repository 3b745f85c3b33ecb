/**
 * MirrorMaker 2 checkpoint records (`<source>.checkpoints.internal` on the target cluster),
 * in Kafka's Struct wire format: key = group, topic, partition; value = version, upstream
 * offset, downstream offset, metadata. Strings are int16-length-prefixed UTF-8, integers
 * big-endian.
 */
export interface MirrorCheckpoint {
  consumerGroup: string;
  /** Topic name on the target cluster, e.g. `a.orders`. */
  topic: string;
  partition: number;
  upstreamOffset: bigint;
  downstreamOffset: bigint;
  metadata: string;
}

export class MalformedCheckpointError extends Error {
  override name = 'MalformedCheckpointError';
}

class Reader {
  private offset = 0;
  constructor(
    private readonly buffer: Buffer,
    private readonly what: string,
  ) {}

  private need(bytes: number) {
    if (this.offset + bytes > this.buffer.length) {
      throw new MalformedCheckpointError(
        `${this.what} truncated at byte ${this.offset} (needs ${bytes} more)`,
      );
    }
  }
  int16() {
    this.need(2);
    const v = this.buffer.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  int32() {
    this.need(4);
    const v = this.buffer.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  int64() {
    this.need(8);
    const v = this.buffer.readBigInt64BE(this.offset);
    this.offset += 8;
    return v;
  }
  string() {
    const length = this.int16();
    if (length < 0) return '';
    this.need(length);
    const v = this.buffer.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return v;
  }
}

export function decodeMirrorCheckpoint(key: Buffer | null, value: Buffer | null): MirrorCheckpoint {
  if (!key || !value) throw new MalformedCheckpointError('checkpoint record without key or value');
  const k = new Reader(key, 'checkpoint key');
  const consumerGroup = k.string();
  const topic = k.string();
  const partition = k.int32();
  const v = new Reader(value, 'checkpoint value');
  const version = v.int16();
  if (version !== 0) throw new MalformedCheckpointError(`unsupported checkpoint value version ${version}`);
  return {
    consumerGroup,
    topic,
    partition,
    upstreamOffset: v.int64(),
    downstreamOffset: v.int64(),
    metadata: v.string(),
  };
}

/** The inverse, for tests and fixtures. */
export function encodeMirrorCheckpoint(c: MirrorCheckpoint): { key: Buffer; value: Buffer } {
  const str = (s: string) => {
    const bytes = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(2);
    len.writeInt16BE(bytes.length);
    return Buffer.concat([len, bytes]);
  };
  const int32 = Buffer.alloc(4);
  int32.writeInt32BE(c.partition);
  const offsets = Buffer.alloc(18);
  offsets.writeInt16BE(0, 0);
  offsets.writeBigInt64BE(c.upstreamOffset, 2);
  offsets.writeBigInt64BE(c.downstreamOffset, 10);
  return {
    key: Buffer.concat([str(c.consumerGroup), str(c.topic), int32]),
    value: Buffer.concat([offsets, str(c.metadata)]),
  };
}
