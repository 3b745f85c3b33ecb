import { createHash } from 'node:crypto';

/**
 * Every disposable target of a validation run is named with this prefix, so a teardown
 * needs only the run id. Run ids are reduced to what process names, directory names and
 * RDS identifiers accept; a long one is shortened with a hash so two runs never share one.
 */
export function restoreTargetPrefix(runId: string): string {
  const safe = runId.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const short =
    safe.length <= 40
      ? safe
      : `${safe.slice(0, 31)}-${createHash('sha256').update(runId).digest('hex').slice(0, 8)}`;
  return `restore-${short}-`;
}

/** RDS identifiers: a letter first, letters, digits and single hyphens, at most 63 characters. */
export function rdsRestoreIdentifier(runId: string, suffix = ''): string {
  const hash = createHash('sha256').update(runId).digest('hex').slice(0, 16);
  return `tpdr-bv-${hash}${suffix ? `-${suffix}` : ''}`;
}
