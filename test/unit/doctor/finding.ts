import { type Finding, type MetricValue, type Status } from '../../../src/findings/model.js';

/** A finding for the doctor's table tests: the summary says what it is, no evidence, metrics when given. */
export const finding = (
  id: string,
  subject: string,
  status: Status,
  metrics?: Record<string, MetricValue>,
): Finding => ({
  id,
  subject,
  status,
  summary: `${id} ${status}`,
  evidence: [],
  ...(metrics ? { metrics } : {}),
});
