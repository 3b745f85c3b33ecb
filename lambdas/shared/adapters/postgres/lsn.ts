/**
 * PostgreSQL WAL positions ("X/Y": two hex numbers, the high and low 32 bits of a byte
 * offset). Compared as 64-bit integers: as strings, "0/A0000000" would sort after
 * "1/0" and "0/9" after "0/10".
 */
const LSN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

export function parseLsn(lsn: string): bigint {
  const m = LSN.exec(lsn);
  if (!m) throw new Error(`not a PostgreSQL LSN: ${JSON.stringify(lsn)}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/** Negative when a is behind b, zero when equal, positive when a is ahead. */
export function compareLsn(a: string, b: string): number {
  const diff = parseLsn(a) - parseLsn(b);
  return diff === 0n ? 0 : diff < 0n ? -1 : 1;
}

/** Bytes from b to a (a - b); negative when a is behind b. */
export function lsnDiffBytes(a: string, b: string): number {
  return Number(parseLsn(a) - parseLsn(b));
}

/**
 * A standby has replayed everything it received. Nothing received since start-up
 * (receive null) leaves nothing pending; an unknown replay position is not caught up.
 */
export function isReplayComplete(receiveLsn: string | null, replayLsn: string | null): boolean {
  if (receiveLsn === null) return true;
  if (replayLsn === null) return false;
  return compareLsn(replayLsn, receiveLsn) >= 0;
}

/** The timeline of a WAL segment file name (its first 8 hex digits), e.g. 000000020000000000000003 → 2. */
export function timelineOfWalFile(walFileName: string): number {
  if (!/^[0-9A-F]{24}$/.test(walFileName))
    throw new Error(`not a WAL segment file name: ${JSON.stringify(walFileName)}`);
  return Number.parseInt(walFileName.slice(0, 8), 16);
}
