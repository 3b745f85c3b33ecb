import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DeploymentConfigError } from '../lib/deployment-config';
import { addOrchestratorStacks } from '../lib/orchestrator-app';
import { DEFAULT_CONFIG_FILE, loadDeploymentConfig } from './config';

/**
 * The tradepulse-dr CDK app: one failover orchestrator stack per region of the deployment
 * config (`cdk synth -c config=config/<file>.json`, default config/sandbox-like.json).
 * Context is read here and nowhere else; nothing is looked up, so synth needs no credentials.
 * cdk-nag's AwsSolutionsChecks runs as a validation plugin: an unacknowledged finding fails synth.
 */
const app = new App();
const configFile = (app.node.tryGetContext('config') as string | undefined) ?? DEFAULT_CONFIG_FILE;
try {
  addOrchestratorStacks(app, loadDeploymentConfig(configFile));
} catch (err) {
  if (err instanceof DeploymentConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
