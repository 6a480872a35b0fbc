// TF Serving's MonitoringConfig (--monitoring_config_file): whether the REST
// port serves Prometheus metrics, and at which path.
import { parseConfigText } from './serving-config-error.js';
import { type MessageSchema, boolField, messageField, stringField } from './text-proto-schema.js';

export interface MonitoringConfig {
  prometheus: { enable: boolean; path: string };
}

/** Where metrics are served when the config names no path. */
export const DEFAULT_PROMETHEUS_PATH = '/monitoring/prometheus/metrics';

export const monitoringConfigSchema: MessageSchema = {
  fullName: 'tensorflow.serving.MonitoringConfig',
  fields: {
    prometheus_config: {
      type: { fullName: 'tensorflow.serving.PrometheusConfig', fields: { enable: { type: 'bool' }, path: { type: 'string' } } },
    },
  },
};

/** A MonitoringConfig in text format; an empty or missing path is the default path. */
export function parseMonitoringConfig(text: string): MonitoringConfig {
  const root = parseConfigText(text, monitoringConfigSchema);
  const prometheus = messageField(root, 'prometheus_config');
  const path = prometheus ? stringField(prometheus, 'path') : '';
  return { prometheus: { enable: prometheus ? boolField(prometheus, 'enable') : false, path: path === '' ? DEFAULT_PROMETHEUS_PATH : path } };
}
