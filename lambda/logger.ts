/**
 * The handler's one Powertools logger: JSON lines with the request's context, level from POWERTOOLS_LOG_LEVEL.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SERVICE_NAME } from '../lib/contract';

export const logger = new Logger({ serviceName: SERVICE_NAME });
