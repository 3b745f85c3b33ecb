import { GetParametersCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { InvalidInputError } from '../../errors';
import type { RegionTopology } from '../../topology';
import type { TradingFlags } from '../contracts';
import { awsCall } from './aws-call';

type Flags = Awaited<ReturnType<TradingFlags['read']>>;
type FlagName = keyof Flags;
const FLAG_NAMES: readonly FlagName[] = [
  'acceptNewOrders',
  'strategyActivation',
  'activeRegion',
  'deploymentFreeze',
];

export interface SsmTradingFlagsOptions {
  /** A client for the region whose flags these are (static stability: the target region's own copy). */
  readonly ssm: SSMClient;
  /** Parameter name of each flag (topology `regions.<region>.aws.parameters`). */
  readonly parameters: RegionTopology['aws']['parameters'];
}

/**
 * The trading flags the order gateway, the strategy runtime and the deploy pipeline read,
 * as String parameters: 'true'|'false' for the booleans, 'enabled'|'disabled' for
 * strategy activation, the region name for the active region.
 */
export class SsmTradingFlags implements TradingFlags {
  private readonly ssm: SSMClient;
  private readonly parameters: RegionTopology['aws']['parameters'];

  constructor(opts: SsmTradingFlagsOptions) {
    this.ssm = opts.ssm;
    this.parameters = opts.parameters;
  }

  async read(): Promise<Flags> {
    const names = FLAG_NAMES.map((flag) => this.parameters[flag]);
    const response = await awsCall(() => this.ssm.send(new GetParametersCommand({ Names: names })));
    const values = new Map((response.Parameters ?? []).map((p) => [p.Name, p.Value]));
    const raw = (flag: FlagName): string => {
      const value = values.get(this.parameters[flag]);
      if (value === undefined) {
        throw new InvalidInputError(`SSM parameter ${this.parameters[flag]} (${flag}) does not exist`, {
          field: flag,
          parameter: this.parameters[flag],
        });
      }
      return value;
    };
    return {
      acceptNewOrders: this.parseBoolean('acceptNewOrders', raw('acceptNewOrders')),
      strategyActivation: this.parseStrategyActivation(raw('strategyActivation')),
      activeRegion: raw('activeRegion'),
      deploymentFreeze: this.parseBoolean('deploymentFreeze', raw('deploymentFreeze')),
    };
  }

  /** Writes only the flags whose value differs; returns the names (contract keys) of those it changed. */
  async set(changes: Partial<Flags>): Promise<{ changed: string[] }> {
    const current = await this.read();
    const changed: FlagName[] = [];
    for (const flag of FLAG_NAMES) {
      const wanted = changes[flag];
      if (wanted === undefined || wanted === current[flag]) continue;
      await awsCall(() =>
        this.ssm.send(
          new PutParameterCommand({
            Name: this.parameters[flag],
            Value: String(wanted),
            Type: 'String',
            Overwrite: true,
          }),
        ),
      );
      changed.push(flag);
    }
    return { changed };
  }

  private parseBoolean(flag: FlagName, value: string): boolean {
    if (value === 'true' || value === 'false') return value === 'true';
    throw new InvalidInputError(
      `SSM parameter ${this.parameters[flag]} (${flag}) is '${value}', not 'true' or 'false'`,
      {
        field: flag,
        parameter: this.parameters[flag],
        value,
      },
    );
  }

  private parseStrategyActivation(value: string): Flags['strategyActivation'] {
    if (value === 'enabled' || value === 'disabled') return value;
    throw new InvalidInputError(
      `SSM parameter ${this.parameters.strategyActivation} (strategyActivation) is '${value}', not 'enabled' or 'disabled'`,
      { field: 'strategyActivation', parameter: this.parameters.strategyActivation, value },
    );
  }
}
