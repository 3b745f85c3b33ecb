import { GetParametersCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SsmTradingFlags } from '../../../lambdas/shared/adapters/aws/ssm-flags';
import { InvalidInputError } from '../../../lambdas/shared/errors';

const ssmMock = mockClient(SSMClient);
const parameters = {
  acceptNewOrders: '/tradepulse/trading/ACCEPT_NEW_ORDERS',
  strategyActivation: '/tradepulse/trading/STRATEGY_ACTIVATION',
  activeRegion: '/tradepulse/dr/ACTIVE_REGION',
  deploymentFreeze: '/tradepulse/dr/DEPLOYMENT_FREEZE',
};
const flags = () => new SsmTradingFlags({ ssm: new SSMClient({ region: 'us-west-2' }), parameters });

function stored(values: Partial<Record<keyof typeof parameters, string>>) {
  ssmMock.on(GetParametersCommand).resolves({
    Parameters: Object.entries(values).map(([flag, Value]) => ({
      Name: parameters[flag as keyof typeof parameters],
      Value,
      Type: 'String',
    })),
    InvalidParameters: Object.keys(parameters)
      .filter((flag) => !(flag in values))
      .map((flag) => parameters[flag as keyof typeof parameters]),
  });
}
const live = {
  acceptNewOrders: 'true',
  strategyActivation: 'enabled',
  activeRegion: 'us-east-1',
  deploymentFreeze: 'false',
};

beforeEach(() => {
  ssmMock.reset();
});

describe('SsmTradingFlags', () => {
  test('read gets the four parameters in one call and parses them', async () => {
    stored(live);
    expect(await flags().read()).toEqual({
      acceptNewOrders: true,
      strategyActivation: 'enabled',
      activeRegion: 'us-east-1',
      deploymentFreeze: false,
    });
    expect(ssmMock).toHaveReceivedCommandTimes(GetParametersCommand, 1);
    expect(ssmMock).toHaveReceivedCommandWith(GetParametersCommand, { Names: Object.values(parameters) });
  });

  test('a missing parameter is named in the error', async () => {
    stored({ acceptNewOrders: 'true', strategyActivation: 'enabled', activeRegion: 'us-east-1' });
    await expect(flags().read()).rejects.toThrow(
      new InvalidInputError(
        'SSM parameter /tradepulse/dr/DEPLOYMENT_FREEZE (deploymentFreeze) does not exist',
      ),
    );
  });

  test('a value outside the flag vocabulary is refused, not guessed', async () => {
    stored({ ...live, acceptNewOrders: 'TRUE' });
    await expect(flags().read()).rejects.toThrow(/ACCEPT_NEW_ORDERS \(acceptNewOrders\) is 'TRUE'/);
    stored({ ...live, strategyActivation: 'on' });
    await expect(flags().read()).rejects.toThrow(/STRATEGY_ACTIVATION \(strategyActivation\) is 'on'/);
  });

  test('set writes only the flags that differ and reports them', async () => {
    stored(live);
    ssmMock.on(PutParameterCommand).resolves({ Version: 2 });
    const result = await flags().set({
      acceptNewOrders: false,
      strategyActivation: 'enabled',
      deploymentFreeze: true,
    });
    expect(result).toEqual({ changed: ['acceptNewOrders', 'deploymentFreeze'] });
    expect(ssmMock).toHaveReceivedCommandTimes(PutParameterCommand, 2);
    expect(ssmMock).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: parameters.acceptNewOrders,
      Value: 'false',
      Type: 'String',
      Overwrite: true,
    });
    expect(ssmMock).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: parameters.deploymentFreeze,
      Value: 'true',
      Type: 'String',
      Overwrite: true,
    });
  });

  test('set is a no-op when every flag already has its value', async () => {
    stored(live);
    expect(await flags().set({ acceptNewOrders: true, activeRegion: 'us-east-1' })).toEqual({ changed: [] });
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
  });

  test('set writes the active region as the plain region name', async () => {
    stored(live);
    ssmMock.on(PutParameterCommand).resolves({ Version: 2 });
    expect(await flags().set({ activeRegion: 'us-west-2' })).toEqual({ changed: ['activeRegion'] });
    expect(ssmMock).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: parameters.activeRegion,
      Value: 'us-west-2',
    });
  });
});
