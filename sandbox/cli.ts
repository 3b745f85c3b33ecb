import { parseArgs } from 'node:util';
import { terminalProgress } from './progress';
import { sandboxStatus, startSandbox, stopSandbox } from './sandbox';
import { configFromArgs } from './cli-config';

const USAGE = `usage: npm run sandbox -- <up|down|status> [--name NAME] [--port-base N] [--sync] [--config FILE] [--json]

  up       start both regions (PostgreSQL primary + standby, Redis primary + replica,
           two Kafka clusters with MirrorMaker 2, moto) and wait until all are healthy
  down     stop everything the sandbox started and remove its data (idempotent)
  status   show each server's process and health

  --name       sandbox name, its directory is .sandbox/NAME (default: default)
  --port-base  first of the 9 consecutive loopback ports it uses (default: 25400)
  --sync       synchronous PostgreSQL replication (zero RPO)
  --config     JSON file with sandbox settings (see sandbox/config.ts)
  --json       machine-readable output on stdout`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      'port-base': { type: 'string' },
      sync: { type: 'boolean' },
      config: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command] = positionals;
  if (values.help || !command || !['up', 'down', 'status'].includes(command) || positionals.length > 1) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const config = configFromArgs(values);
  const progress = terminalProgress('sandbox');

  if (command === 'up') {
    const interrupt = async (signal: string) => {
      progress.warn(`${signal} received: tearing down`);
      await stopSandbox(config, progress);
      process.exit(130);
    };
    process.once('SIGINT', () => void interrupt('SIGINT'));
    process.once('SIGTERM', () => void interrupt('SIGTERM'));
    const started = Date.now();
    const endpoints = await startSandbox(config, progress);
    progress.done(
      `sandbox '${values.name ?? 'default'}' ready in ${((Date.now() - started) / 1000).toFixed(1)}s`,
    );
    process.stdout.write(values.json ? `${JSON.stringify(endpoints, null, 2)}\n` : describe(endpoints));
    return 0;
  }
  if (command === 'down') {
    await stopSandbox(config, progress);
    progress.done(`sandbox in ${config.rootDir} is down`);
    return 0;
  }
  const status = await sandboxStatus(config);
  if (values.json) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
  else {
    process.stdout.write(status.processes.length === 0 ? 'sandbox is down\n' : '');
    for (const proc of status.processes)
      process.stdout.write(
        `${proc.alive ? 'up  ' : 'DEAD'}  ${proc.name.padEnd(18)} pid ${proc.pid}  log ${proc.logFile}\n`,
      );
    if (status.health) process.stdout.write(`${JSON.stringify(status.health, null, 2)}\n`);
  }
  return status.running || status.processes.length === 0 ? 0 : 1;
}

function describe(endpoints: Awaited<ReturnType<typeof startSandbox>>): string {
  const region = (label: string, r: typeof endpoints.primary) =>
    `${label} ${r.region}: postgres ${r.postgres.host}:${r.postgres.port}/${r.postgres.database}  redis ${r.redis.host}:${r.redis.port}  kafka ${r.kafka.brokers.join(',')}\n`;
  return (
    region('primary  ', endpoints.primary) +
    region('secondary', endpoints.secondary) +
    `aws (moto) ${endpoints.aws.endpoint}  hosted zone ${endpoints.aws.resources.hostedZoneName} (${endpoints.aws.resources.hostedZoneId})\n`
  );
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`sandbox: ${err.name === 'Error' ? '' : `${err.name}: `}${err.message}\n`);
    process.exit(1);
  },
);
