/** Parsers for Redis `INFO` text and `ROLE` replies (pure). */

export function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (!line || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}

export interface RoleReading {
  role: 'master' | 'replica' | 'unknown';
  /** master_repl_offset on a master, the processed replication offset on a replica. */
  replicationOffset: number;
  /** Replica: its master and the link state (`connected` when replicating). */
  master?: { host: string; port: number; linkState: string };
  /** Master: its connected replicas. */
  replicas?: { host: string; port: number; offset: number }[];
}

/**
 * `ROLE` → master: ['master', offset, [[host, port, offset], …]];
 * replica: ['slave', host, port, state, offset] (state `connected` when replicating).
 */
export function parseRoleReply(reply: unknown): RoleReading {
  if (!Array.isArray(reply) || reply.length === 0) return { role: 'unknown', replicationOffset: 0 };
  const [kind] = reply as unknown[];
  if (kind === 'master') {
    const replicas = Array.isArray(reply[2]) ? (reply[2] as unknown[][]) : [];
    return {
      role: 'master',
      replicationOffset: Number(reply[1] ?? 0),
      replicas: replicas.map((r) => ({ host: String(r[0]), port: Number(r[1]), offset: Number(r[2]) })),
    };
  }
  if (kind === 'slave' || kind === 'replica') {
    return {
      role: 'replica',
      replicationOffset: Math.max(0, Number(reply[4] ?? 0)),
      master: { host: String(reply[1]), port: Number(reply[2]), linkState: String(reply[3]) },
    };
  }
  return { role: 'unknown', replicationOffset: 0 };
}
