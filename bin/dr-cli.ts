import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { SFNClient } from '@aws-sdk/client-sfn';
import { runCli } from '../dr-cli/commands';

/**
 * npm run dr -- <start|watch|approve|reject> …: drills and failovers on the deployed
 * orchestrators (dr-cli/args.ts has the usage). Credentials and the default profile come
 * from the environment, the only place this entry point reads it.
 */
const clients = new Map<string, SFNClient>();
const sfn = (region: string) => {
  if (!clients.has(region))
    clients.set(region, new SFNClient({ region, retryMode: 'standard', maxAttempts: 3 }));
  return clients.get(region)!;
};

runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  readFile: (file) => fs.readFileSync(file, 'utf8'),
  now: () => new Date(),
  sleep: (ms) => sleep(ms),
  sfn,
}).then(
  (code) => {
    for (const client of clients.values()) client.destroy();
    process.exit(code);
  },
  (err: Error) => {
    process.stderr.write(`dr: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
