/**
 * What rebuilding a self-managed PostgreSQL node needs beyond SQL: its server process and its
 * data directory. The sandbox implements it over its process supervisor (the server stays one
 * of the sandbox's managed processes, so `sandbox down` still stops it); on EC2 it would be a
 * host agent (SSM Run Command). A Lambda has neither, so a deployed orchestrator can rebuild
 * self-managed nodes only through such an agent.
 */
import type { MirrorControl } from '../contracts';

export type PostgresTool = 'pg_rewind' | 'pg_basebackup' | 'pg_controldata';

export interface PostgresHostControl {
  /** The node's data directory, as the tools see it. */
  readonly dataDir: string;
  isRunning(): Promise<boolean>;
  /** Fast, clean shutdown (a shutdown checkpoint is written); resolves once the server is gone. */
  stop(): Promise<{ wasRunning: boolean }>;
  /** Starts the server as a managed process and resolves once it accepts connections. */
  start(): Promise<void>;
  /** Runs one of PostgreSQL's tools as the server's OS user; rejects with its output when it fails. */
  runTool(tool: PostgresTool, args: string[], env?: Record<string, string>): Promise<string>;
  /** A file of the data directory (`postgresql.auto.conf`, `pg_wal/00000002.history`); null when absent. */
  readFile(relativePath: string): Promise<string | null>;
  /** Writes a file of the data directory, owned by the server's OS user. */
  writeFile(relativePath: string, content: string): Promise<void>;
  /** Removes everything in the data directory (before a fresh base backup), keeping the directory. */
  emptyDataDir(): Promise<void>;
}

/**
 * Control of the processes of self-managed stores, for the rebuild steps: each region's
 * PostgreSQL server and the Kafka replication flows. Given to the dependency providers by
 * whoever owns the processes (the sandbox); absent in a Lambda.
 */
export interface SelfManagedProcessControl {
  postgres(region: string): PostgresHostControl;
  /** Role with REPLICATION that a rebuilt standby streams as. */
  readonly replicationUser: string;
  readonly mirror: MirrorControl;
}
