import net from 'node:net';
import { PORT_OFFSETS, SANDBOX_HOST, portOf, type PortName, type SandboxConfig } from './config';

export class PortInUseError extends Error {
  override name = 'PortInUseError';
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: SANDBOX_HOST, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Fails before anything starts when any sandbox port is taken, naming the port and the fix. */
export async function assertPortsFree(config: SandboxConfig): Promise<void> {
  const names = Object.keys(PORT_OFFSETS) as PortName[];
  const taken: string[] = [];
  for (const name of names) {
    const port = portOf(config, name);
    if (!(await canListen(port))) taken.push(`${port} (${name})`);
  }
  if (taken.length > 0) {
    throw new PortInUseError(
      `port ${taken.join(', ')} on ${SANDBOX_HOST} already in use. ` +
        `Stop what listens there (another sandbox? run 'npm run sandbox -- down') or choose another ` +
        `portBase (now ${config.portBase}; the sandbox uses ${config.portBase}–${config.portBase + names.length - 1}) ` +
        `with --port-base or "portBase" in the sandbox config.`,
    );
  }
}
