import {
  awsClientConfig,
  createArcClusterClients,
  createAwsClients,
} from '../../../lambdas/shared/adapters/aws/clients';

describe('AWS client factory', () => {
  test('standard retry mode and 3 attempts by default, no endpoint or credential override', () => {
    expect(awsClientConfig({ region: 'us-west-2' })).toEqual({
      region: 'us-west-2',
      retryMode: 'standard',
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 3000, requestTimeout: 10_000 },
    });
  });

  test('the sandbox overrides endpoint and credentials', () => {
    const credentials = { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' };
    expect(
      awsClientConfig({
        region: 'us-west-2',
        endpoint: 'http://127.0.0.1:25599',
        credentials,
        maxAttempts: 5,
      }),
    ).toMatchObject({
      endpoint: 'http://127.0.0.1:25599',
      credentials,
      maxAttempts: 5,
    });
  });

  test('one client per service for the region, reused on every access; S3 path-style behind an endpoint override', async () => {
    const clients = createAwsClients({
      region: 'us-west-2',
      endpoint: 'http://127.0.0.1:25599',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    try {
      expect(clients.ssm).toBe(clients.ssm);
      expect(await clients.ssm.config.region()).toBe('us-west-2');
      expect(await clients.dynamodb.config.maxAttempts()).toBe(3);
      expect(((await clients.ssm.config.retryStrategy()) as { mode?: string }).mode).toBe('standard');
      expect(clients.s3.config.forcePathStyle).toBe(true);
    } finally {
      clients.destroy();
    }
  });

  test('one ARC client per cluster endpoint, signed for that endpoint’s region', async () => {
    const clusters = createArcClusterClients([
      { endpoint: 'https://aaaa.route53-recovery-cluster.us-west-2.amazonaws.com/v1', region: 'us-west-2' },
      { endpoint: 'https://bbbb.route53-recovery-cluster.eu-west-1.amazonaws.com/v1', region: 'eu-west-1' },
    ]);
    try {
      expect(clusters.map((c) => c.region)).toEqual(['us-west-2', 'eu-west-1']);
      expect(await clusters[1]!.client.config.region()).toBe('eu-west-1');
      expect(await clusters[0]!.client.config.maxAttempts()).toBe(2);
      const endpoint = await clusters[0]!.client.config.endpoint!();
      expect(endpoint.hostname).toBe('aaaa.route53-recovery-cluster.us-west-2.amazonaws.com');
    } finally {
      for (const c of clusters) c.client.destroy();
    }
  });
});
