import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { dataAtRiskFigures } from '../../../lambdas/capture-data-at-risk/metrics';
import { captureDataAtRiskStep } from '../../../lambdas/capture-data-at-risk/logic';
import { resumeTradingStep } from '../../../lambdas/resume-trading/logic';
import { measuredRtoFigures } from '../../../lambdas/resume-trading/metrics';
import { lambdaHandler } from '../../../lambdas/shared/lambda-handler';
import type { DataAtRisk } from '../../../lambdas/shared/measure/data-at-risk';
import { DR_METRICS, DR_METRICS_NAMESPACE, DR_SERVICE_NAME } from '../../../lambdas/shared/metrics';
import { validateInputStep } from '../../../lambdas/validate-input/logic';
import { dryRun, fakeDeps, sampleRun } from '../steps/fakes';

const context = {
  functionName: 'unit-step',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-west-2:111122223333:function:unit-step',
  memoryLimitInMB: '512',
  awsRequestId: 'req-1',
  logGroupName: '/aws/lambda/unit-step',
  logStreamName: 's',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

interface EmfDocument {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

/** The EMF documents written to stdout while `fn` runs (Powertools Metrics prints one JSON line each). */
async function emfDuring(fn: () => Promise<unknown>): Promise<EmfDocument[]> {
  const lines: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    await fn().catch(() => {});
  } finally {
    process.stdout.write = write;
  }
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('"_aws"') && l.includes('CloudWatchMetrics'))
    .map((l) => JSON.parse(l) as EmfDocument);
}

const metricOf = (docs: EmfDocument[], name: string) => {
  const doc = docs.find((d) => d._aws.CloudWatchMetrics[0]!.Metrics.some((m) => m.Name === name));
  if (!doc) throw new Error(`no EMF document with ${name}`);
  const directive = doc._aws.CloudWatchMetrics[0]!;
  return {
    namespace: directive.Namespace,
    dimensions: directive.Dimensions[0]!.sort(),
    unit: directive.Metrics.find((m) => m.Name === name)!.Unit,
    value: doc[name],
    service: doc.service,
    step: doc.step,
  };
};

const newMetrics = () => new Metrics({ namespace: DR_METRICS_NAMESPACE, serviceName: DR_SERVICE_NAME });

describe('EMF metrics from the handler wrapper', () => {
  test('every step emits its duration with the step dimension; a failing step emits StepFailed', async () => {
    const world = fakeDeps();
    const handler = lambdaHandler(resumeTradingStep, () => world.deps, { metrics: newMetrics() });
    const docs = await emfDuring(() => handler({ run: sampleRun() }, context));
    expect(metricOf(docs, DR_METRICS.stepDuration)).toMatchObject({
      namespace: 'TradePulse/DR',
      dimensions: ['service', 'step'],
      unit: 'Milliseconds',
      service: 'tradepulse-dr',
      step: 'resume-trading',
    });
    expect(typeof metricOf(docs, DR_METRICS.stepDuration).value).toBe('number');

    const failing = lambdaHandler(validateInputStep, () => world.deps, { metrics: newMetrics() });
    const failed = await emfDuring(() => failing({ not: 'an execution input' }, context));
    expect(metricOf(failed, DR_METRICS.stepFailed)).toMatchObject({
      dimensions: ['service', 'step'],
      unit: 'Count',
      value: 1,
      step: 'validate-input',
    });
    expect(failed.some((d) => DR_METRICS.stepDuration in d)).toBe(false);
  });

  test('resume-trading emits the measured RTO (declaration → resumed) with the service dimension only', async () => {
    const world = fakeDeps();
    const declaredAt = new Date(Date.now() - 95_000).toISOString();
    const handler = lambdaHandler(resumeTradingStep, () => world.deps, {
      metrics: newMetrics(),
      figures: measuredRtoFigures,
    });
    const docs = await emfDuring(() => handler({ run: sampleRun({ declaredAt }) }, context));
    const rto = metricOf(docs, DR_METRICS.measuredRtoSeconds);
    expect(rto).toMatchObject({ namespace: 'TradePulse/DR', dimensions: ['service'], unit: 'Seconds' });
    expect(rto.value as number).toBeGreaterThanOrEqual(95);
    expect(rto.value as number).toBeLessThan(120);

    const dry = await emfDuring(() => handler({ run: dryRun({ declaredAt }) }, context));
    expect(dry.some((d) => DR_METRICS.measuredRtoSeconds in d)).toBe(false);
  });

  test('capture-data-at-risk emits the replication lag it measured', async () => {
    const world = fakeDeps();
    const handler = lambdaHandler(captureDataAtRiskStep, () => world.deps, {
      metrics: newMetrics(),
      figures: dataAtRiskFigures,
    });
    const docs = await emfDuring(() => handler({ run: sampleRun() }, context));
    for (const name of [
      DR_METRICS.postgresLagSeconds,
      DR_METRICS.postgresLagBytes,
      DR_METRICS.redisOffsetBehindBytes,
    ])
      expect([name, typeof metricOf(docs, name).value]).toEqual([name, 'number']);
    expect(metricOf(docs, DR_METRICS.postgresLagBytes)).toMatchObject({
      dimensions: ['service'],
      unit: 'Bytes',
    });
  });

  test('outside Lambda (local runner, drill) nothing is printed unless a Metrics instance is given', async () => {
    const world = fakeDeps();
    const previous = process.env.AWS_LAMBDA_FUNCTION_NAME;
    delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    try {
      const handler = lambdaHandler(resumeTradingStep, () => world.deps, { figures: measuredRtoFigures });
      expect(await emfDuring(() => handler({ run: sampleRun() }, context))).toEqual([]);
    } finally {
      if (previous !== undefined) process.env.AWS_LAMBDA_FUNCTION_NAME = previous;
    }
  });

  test('in Lambda the module’s Metrics instance is used', async () => {
    const world = fakeDeps();
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'unit-step';
    try {
      const handler = lambdaHandler(resumeTradingStep, () => world.deps);
      const docs = await emfDuring(() => handler({ run: sampleRun() }, context));
      expect(metricOf(docs, DR_METRICS.stepDuration).step).toBe('resume-trading');
    } finally {
      delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    }
  });
});

describe('the figures each step declares', () => {
  const atRisk = (overrides: Partial<DataAtRisk> = {}): DataAtRisk => ({
    measuredAt: '2026-11-27T00:00:00.000Z',
    postgres: {
      primaryReachable: true,
      lagBytes: 4096,
      lagSeconds: 2.5,
      primaryLsn: '0/3000060',
      standbyReplayLsn: '0/2FFF060',
    },
    kafka: {
      topics: [
        { topic: 'orders', messagesBehind: 10, lagSeconds: 1.2 },
        { topic: 'fills', messagesBehind: 5, lagSeconds: 3.4 },
      ],
      maxLagSeconds: 3.4,
    },
    redis: { primaryReachable: true, offsetBehindBytes: 128, replicaLinkUp: true },
    ...overrides,
  });

  test('replication lag per store; what could not be measured is left out', () => {
    expect(dataAtRiskFigures(atRisk())).toEqual([
      { name: 'PostgresReplicationLagSeconds', unit: 'Seconds', value: 2.5 },
      { name: 'PostgresReplicationLagBytes', unit: 'Bytes', value: 4096 },
      { name: 'KafkaReplicationLagSeconds', unit: 'Seconds', value: 3.4 },
      { name: 'KafkaMessagesBehind', unit: 'Count', value: 15 },
      { name: 'RedisReplicationOffsetBehindBytes', unit: 'Bytes', value: 128 },
    ]);
    const unmeasured = atRisk({
      postgres: { ...atRisk().postgres, lagBytes: null, lagSeconds: null },
      kafka: { topics: [], maxLagSeconds: 0 },
      redis: { primaryReachable: false, offsetBehindBytes: null, replicaLinkUp: null },
    });
    expect(dataAtRiskFigures(unmeasured)).toEqual([]);
  });

  test('measured RTO is resumedAt − declaredAt in seconds, none for a dry run', () => {
    const run = sampleRun({ declaredAt: '2026-11-27T00:00:00.000Z' });
    expect(measuredRtoFigures({ resumedAt: '2026-11-27T00:07:30.500Z' }, { run })).toEqual([
      { name: 'MeasuredRtoSeconds', unit: 'Seconds', value: 450.5 },
    ]);
    expect(measuredRtoFigures({ resumedAt: '2026-11-27T00:07:30.500Z' }, { run: dryRun() })).toEqual([]);
  });
});
