import type { MirrorControl } from '../adapters/contracts';
import type { RebuildDependencies } from '../dependencies';
import { InvalidInputError } from '../errors';
import { defineProvider } from './provider';

/** `mirrorControl`: the process control's (the sandbox's MirrorMaker 2). */
export const mirrorControlProvider = defineProvider<Pick<RebuildDependencies, 'mirrorControl'>>(
  'mirror-control',
  (ctx) => ({
    forRun: () => ({
      mirrorControl(): MirrorControl {
        if (!ctx.processControl)
          throw new InvalidInputError(
            'no Kafka replication control is configured for this orchestrator (the sandbox provides its MirrorMaker 2 process; an MSK Replicator adapter exists in adapters/aws/msk-replicator.ts but the topology has no replicator settings yet)',
          );
        return ctx.processControl.mirror;
      },
    }),
  }),
);
