import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  parseDeploymentConfig,
  type DeploymentConfig,
  type DeploymentConfigInput,
} from '../../lib/deployment-config';
import { PROJECT_ROOT } from '../../lib/dr-step-function';
import { addOrchestratorStacks } from '../../lib/orchestrator-app';
import type { OrchestratorStack } from '../../lib/orchestrator-stack';

export const SAMPLE_CONFIG_FILE = path.join(PROJECT_ROOT, 'config', 'sandbox-like.json');

/** The sample deployment config as JSON (a fresh copy each call, safe to modify). */
export function sampleConfigInput(): DeploymentConfigInput {
  return JSON.parse(fs.readFileSync(SAMPLE_CONFIG_FILE, 'utf8')) as DeploymentConfigInput;
}

/** The feature flags and context `cdk synth` runs with (cdk.json), so tests synthesize what the CLI does. */
export function cdkJsonContext(): Record<string, unknown> {
  return (
    JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
      context: Record<string, unknown>;
    }
  ).context;
}

export interface SynthesizedApp {
  readonly app: App;
  readonly config: DeploymentConfig;
  readonly outdir: string;
  readonly stacks: readonly OrchestratorStack[];
  stack(region: string): OrchestratorStack;
  template(region: string): Template;
}

/** A temporary directory for cloud assemblies; remove it with removeAssemblyDir. */
export function newAssemblyDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tradepulse-dr-cdk-'));
}

/**
 * Builds the app as bin/app.ts does, into a cloud assembly directory. Bundling 27 functions
 * is the slow part: share one result across the tests of a file. CDK reuses an identical
 * bundle within a process only for the same output directory, so apps synthesized for
 * other configs in the same file should pass the same `outdir` (templates are read into
 * memory right after synthesis, before another app overwrites them).
 */
export function synthesizeApp(
  input: DeploymentConfigInput = sampleConfigInput(),
  outdir: string = newAssemblyDir(),
): SynthesizedApp {
  const config = parseDeploymentConfig(input);
  const app = new App({ outdir, context: cdkJsonContext() });
  const stacks = addOrchestratorStacks(app, config);
  app.synth();
  const templates = new Map(stacks.map((s) => [s.region, Template.fromStack(s)]));
  const stack = (region: string) => {
    const found = stacks.find((s) => s.region === region);
    if (!found) throw new Error(`no orchestrator stack for ${region}`);
    return found;
  };
  return {
    app,
    config,
    outdir,
    stacks,
    stack,
    template(region) {
      const template = templates.get(region);
      if (!template) throw new Error(`no orchestrator stack for ${region}`);
      return template;
    },
  };
}

export function removeAssemblyDir(outdir: string | undefined): void {
  if (outdir) fs.rmSync(outdir, { recursive: true, force: true });
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every string in a template with the JSON path it sits at. */
export function stringLeaves(value: unknown, at: string[] = []): { path: string[]; value: string }[] {
  const v = value as Json;
  if (typeof v === 'string') return [{ path: at, value: v }];
  if (Array.isArray(v)) return v.flatMap((item, i) => stringLeaves(item, [...at, String(i)]));
  if (v && typeof v === 'object')
    return Object.entries(v).flatMap(([k, item]) => stringLeaves(item, [...at, k]));
  return [];
}

export interface PolicyStatementView {
  readonly resourceId: string;
  readonly resourceType: string;
  readonly sid?: string;
  readonly effect: string;
  readonly actions: string[];
  readonly resources: unknown[];
  readonly conditions?: Record<string, unknown>;
  readonly principal?: unknown;
}

/** Every statement of every identity policy (AWS::IAM::Policy, ManagedPolicy, Role inline policies) in a template. */
export function identityPolicyStatements(template: Template): PolicyStatementView[] {
  const resources = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties?: Record<string, unknown> }
  >;
  const out: PolicyStatementView[] = [];
  const add = (resourceId: string, resourceType: string, document: unknown) => {
    for (const s of ((document as { Statement?: unknown[] })?.Statement ?? []) as Record<string, unknown>[]) {
      out.push({
        resourceId,
        resourceType,
        ...(s.Sid ? { sid: s.Sid as string } : {}),
        effect: s.Effect as string,
        actions: ([] as string[]).concat((s.Action ?? []) as string | string[]),
        resources: ([] as unknown[]).concat(s.Resource ?? []),
        ...(s.Condition ? { conditions: s.Condition as Record<string, unknown> } : {}),
      });
    }
  };
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
      add(id, r.Type, r.Properties?.PolicyDocument);
    if (r.Type === 'AWS::IAM::Role') {
      for (const p of (r.Properties?.Policies ?? []) as { PolicyDocument: unknown }[])
        add(id, r.Type, p.PolicyDocument);
    }
  }
  return out;
}

/** The role a policy is attached to (its logical id), for AWS::IAM::Policy resources. */
export function roleOfPolicy(template: Template, policyId: string): string {
  const policy = template.toJSON().Resources[policyId] as { Properties: { Roles: { Ref: string }[] } };
  return policy.Properties.Roles[0]!.Ref;
}
