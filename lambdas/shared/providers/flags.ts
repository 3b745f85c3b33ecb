import { SSMClient } from '@aws-sdk/client-ssm';
import { SsmTradingFlags } from '../adapters/aws/ssm-flags';
import type { TradingFlags } from '../adapters/contracts';
import { defineProvider, regionOf } from './provider';
import type { DrDependencies } from '../dependencies';

/** `flags`: a region's trading flags (SSM parameters in that region). */
export const flagsProvider = defineProvider<Pick<DrDependencies, 'flags'>>('flags', (ctx) => {
  const flags = (region: string): TradingFlags =>
    new SsmTradingFlags({
      ssm: ctx.aws(region, 'ssm', (c) => new SSMClient(c)),
      parameters: regionOf(ctx.topology, region).aws.parameters,
    });
  return { forRun: () => ({ flags }) };
});
