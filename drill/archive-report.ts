import { S3EvidenceStore } from '../lambdas/shared/adapters/aws/s3-evidence-store';
import { createAwsClients } from '../lambdas/shared/adapters/aws/clients';
import type { EvidenceReport } from '../report/model';
import { evidenceReportFiles } from '../report/write-report';
import type { SandboxEndpoints } from '../sandbox/endpoints';

/** Archives the report files in the promoted region's Object-Lock evidence bucket, beside the run's evidence bundle. */
export async function archiveReport(
  endpoints: SandboxEndpoints,
  report: EvidenceReport,
): Promise<{ key: string; sha256: string; versionId?: string }[]> {
  const region = report.targetRegion;
  const clients = createAwsClients({
    region,
    endpoint: endpoints.aws.endpoint,
    credentials: endpoints.aws.credentials,
  });
  try {
    const store = new S3EvidenceStore({
      s3: clients.s3,
      bucket: endpoints.aws.resources.regional[region]!.evidenceBucket,
    });
    const archived = [];
    for (const [name, content] of Object.entries(evidenceReportFiles(report))) {
      const type = name.endsWith('.json')
        ? 'application/json'
        : name.endsWith('.html')
          ? 'text/html; charset=utf-8'
          : 'text/plain';
      archived.push(await store.put(`disaster-recovery/${report.runId}/${name}`, content, type));
    }
    return archived;
  } finally {
    clients.destroy();
  }
}
