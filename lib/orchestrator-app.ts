import type { App } from 'aws-cdk-lib';
import { orchestratorRegions, type DeploymentConfig } from './deployment-config';
import { OrchestratorStack } from './orchestrator-stack';

export interface OrchestratorAppOptions {
  /** @default the repository root */
  readonly projectRoot?: string;
}

/** The stack name of the orchestrator in `region`. */
export const orchestratorStackName = (config: DeploymentConfig, region: string) =>
  `${config.topology.application}-dr-${region}`;

/** One OrchestratorStack per topology region, each deployed to (and depending only on) its own region. */
export function addOrchestratorStacks(
  app: App,
  config: DeploymentConfig,
  options: OrchestratorAppOptions = {},
): OrchestratorStack[] {
  return orchestratorRegions(config.topology).map(
    (region) =>
      new OrchestratorStack(app, orchestratorStackName(config, region), {
        config,
        orchestratorRegion: region,
        terminationProtection: true,
        ...(options.projectRoot ? { projectRoot: options.projectRoot } : {}),
      }),
  );
}
