// `notify`: who hears about events (docs/notify.md). Secrets may come from
// the environment (LOOKOUT_MQTT_PASSWORD, a webhook's secretEnv) so a config
// file in a repository need not hold them; either way they are never logged.
import { existsSync } from 'node:fs';
import { describe, type Reader } from './reader.js';
import { NOTIFY_PHASES, type MqttConfig, type NotifyConfig, type NotifyPhase, type WebhookConfig } from './schema.js';

const MQTT_KEYS = ['url', 'username', 'password', 'topicPrefix', 'clientId', 'discovery', 'discoveryPrefix', 'maxQueue', 'rejectUnauthorized', 'caFile'];
const WEBHOOK_KEYS = ['url', 'secret', 'secretEnv', 'phases', 'cameras', 'labels', 'zones', 'lines', 'timeoutMs', 'retries', 'maxQueue'];
/** An MQTT topic level: no wildcards, no separators, no control characters. */
const TOPIC_LEVELS = /^[^#+\u0000-\u001f]+(\/[^#+\u0000-\u001f/]+)*$/;

export function parseNotify(r: Reader, value: unknown, env: NodeJS.ProcessEnv = process.env): NotifyConfig {
  const n = r.object(value, 'notify', ['mqtt', 'webhooks', 'baseUrl']);
  let baseUrl: string | undefined;
  if (n.baseUrl !== undefined && n.baseUrl !== null) {
    baseUrl = r.string(n.baseUrl, 'notify.baseUrl', '').replace(/\/+$/, '');
    if (!/^https?:\/\/[^/\s]+(\/\S*)?$/.test(baseUrl)) r.fail('notify.baseUrl', `expected how receivers reach lookout, like https://lookout.example.com, got ${JSON.stringify(baseUrl)}`);
  }
  return { mqtt: parseMqtt(r, n.mqtt), webhooks: parseWebhooks(r, n.webhooks, env), baseUrl };
}

function parseMqtt(r: Reader, value: unknown): MqttConfig | undefined {
  if (value === undefined || value === null) return undefined;
  const m = r.object(value, 'notify.mqtt', MQTT_KEYS);
  const url = r.string(m.url, 'notify.mqtt.url', '');
  // Over WebSockets a broker may want a path (EMQX, HiveMQ: /mqtt); plain MQTT has none.
  if (!/^(mqtts?:\/\/[^/\s]+\/?|wss?:\/\/[^/\s]+(\/\S*)?)$/.test(url)) r.fail('notify.mqtt.url', `expected mqtt://host[:port] (or mqtts://, ws://host/path, wss://), got ${JSON.stringify(url.replace(/\/\/[^@/]*@/, '//…@'))}`);
  const prefix = r.string(m.topicPrefix, 'notify.mqtt.topicPrefix', 'lookout');
  if (!TOPIC_LEVELS.test(prefix)) r.fail('notify.mqtt.topicPrefix', `expected topic levels without "#", "+" or an empty level, got ${JSON.stringify(prefix)}`);
  const discoveryPrefix = r.string(m.discoveryPrefix, 'notify.mqtt.discoveryPrefix', 'homeassistant');
  if (!TOPIC_LEVELS.test(discoveryPrefix)) r.fail('notify.mqtt.discoveryPrefix', `expected topic levels without "#", "+" or an empty level, got ${JSON.stringify(discoveryPrefix)}`);
  const clientId = r.string(m.clientId, 'notify.mqtt.clientId', `lookout-${prefix.replace(/[^A-Za-z0-9_-]/g, '_')}`);
  return {
    url,
    username: m.username === undefined || m.username === null ? undefined : r.string(m.username, 'notify.mqtt.username', ''),
    password: secret(r, m.password, 'notify.mqtt.password'),
    topicPrefix: prefix,
    clientId,
    discovery: r.boolean(m.discovery, 'notify.mqtt.discovery', true),
    discoveryPrefix,
    maxQueue: r.number(m.maxQueue, 'notify.mqtt.maxQueue', 1_000, 1, 1_000_000, true),
    rejectUnauthorized: r.boolean(m.rejectUnauthorized, 'notify.mqtt.rejectUnauthorized', true),
    caFile: caFile(r, m.caFile, url),
  };
}

/** A secret: text, never quoted back in an error (a number given by mistake is still someone's password). */
function secret(r: Reader, value: unknown, key: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length === 0) r.fail(key, `expected a non-empty string (quote it in YAML), got a ${Array.isArray(value) ? 'list' : typeof value}`);
  return value;
}

/** The broker's CA: only for TLS, and it must be there now rather than fail every reconnect later. */
function caFile(r: Reader, value: unknown, url: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  const file = r.string(value, 'notify.mqtt.caFile', '');
  if (!/^(mqtts|wss):/.test(url)) r.fail('notify.mqtt.caFile', 'is for TLS: use an mqtts:// or wss:// url');
  if (!existsSync(file)) r.fail('notify.mqtt.caFile', `no such file: ${file}`);
  return file;
}

function strings(r: Reader, value: unknown, key: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) r.fail(key, `expected a list, got ${describe(value)}`);
  return value.map((v, i) => r.string(v, `${key}[${i}]`, ''));
}

function parseWebhooks(r: Reader, value: unknown, env: NodeJS.ProcessEnv): WebhookConfig[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) r.fail('notify.webhooks', `expected a list of webhooks, got ${describe(value)}`);
  return value.map((entry, i) => {
    const at = `notify.webhooks[${i}]`;
    const w = r.object(entry, at, WEBHOOK_KEYS);
    const url = r.string(w.url, `${at}.url`, '');
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) r.fail(`${at}.url`, 'expected an http:// or https:// address');
    if (w.secret !== undefined && w.secretEnv !== undefined) r.fail(`${at}.secretEnv`, 'give secret or secretEnv, not both');
    let key = secret(r, w.secret, `${at}.secret`);
    if (w.secretEnv !== undefined && w.secretEnv !== null) {
      const name = r.string(w.secretEnv, `${at}.secretEnv`, '');
      key = env[name];
      if (!key) r.fail(`${at}.secretEnv`, `the environment variable ${name} is not set (or empty)`);
    }
    const phases = w.phases === undefined || w.phases === null ? (['start', 'end', 'enter', 'exit', 'loiter', 'crossing'] as NotifyPhase[]) : strings(r, w.phases, `${at}.phases`);
    phases.forEach((p, j) => {
      if (!(NOTIFY_PHASES as readonly string[]).includes(p)) r.fail(`${at}.phases[${j}]`, `expected one of ${NOTIFY_PHASES.join(', ')}; got ${JSON.stringify(p)}`);
    });
    return {
      url,
      secret: key,
      phases: phases as NotifyPhase[],
      cameras: strings(r, w.cameras, `${at}.cameras`),
      labels: r.labels(w.labels, `${at}.labels`, []),
      zones: strings(r, w.zones, `${at}.zones`),
      lines: strings(r, w.lines, `${at}.lines`),
      timeoutMs: r.number(w.timeoutMs, `${at}.timeoutMs`, 5_000, 100, 120_000, true),
      retries: r.number(w.retries, `${at}.retries`, 3, 0, 20, true),
      maxQueue: r.number(w.maxQueue, `${at}.maxQueue`, 1_000, 1, 1_000_000, true),
    };
  });
}
