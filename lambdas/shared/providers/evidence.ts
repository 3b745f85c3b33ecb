import { S3EvidenceStore } from '../adapters/aws/s3-evidence-store';
import { defineProvider, regionOf } from './provider';
import { s3Client } from './s3-client';
import type { DrDependencies } from '../dependencies';

/** `evidence`: the orchestrator region's evidence bucket (Object Lock). */
export const evidenceProvider = defineProvider<Pick<DrDependencies, 'evidence'>>('evidence', (ctx) => {
  const bucket = regionOf(ctx.topology, ctx.region).aws.evidenceBucket;
  return {
    forRun: () => ({ evidence: new S3EvidenceStore({ s3: ctx.aws(ctx.region, 's3', s3Client), bucket }) }),
  };
});
