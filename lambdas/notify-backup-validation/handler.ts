import { fromEnvironment } from '../shared/aws-dependencies';
import { lambdaHandler } from '../shared/lambda-handler';
import { notifierProvider } from '../shared/providers/notifier';
import { notifyBackupValidationStep } from './logic';

/** Deployed with only the adapters its logic declares: notifier. */
export const handler = lambdaHandler(notifyBackupValidationStep, fromEnvironment(notifierProvider));
