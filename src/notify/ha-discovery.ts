// The MQTT topic layout (docs/notify.md) and the Home Assistant discovery
// configs that point Home Assistant at it. Pure: the sink decides when to
// publish (discovery on connect and before a combo's first state). Topics,
// payloads and configs are built in one place so that a config's
// state_topic and the topic the sink writes can never drift apart.
import type { Notice, NotifyCatalog } from './notice.js';

/** A retained discovery config: publish `payload` on `topic`, retained. */
export interface DiscoveryMessage {
  topic: string;
  payload: string;
}

export interface DiscoveryNames {
  /** The sink's topic prefix (config.topicPrefix). */
  prefix: string;
  /** Home Assistant's discovery prefix (config.discoveryPrefix). */
  discoveryPrefix: string;
}

/** Something of a camera to announce once: `key` tells combos apart, `configs` builds their discovery messages. */
export interface Combo {
  camera: string;
  key: string;
  configs: () => DiscoveryMessage[];
}

/** What one notice becomes: an in-order message (not retained), retained states, and the combo they belong to. */
export interface NoticeMessages {
  stream: { topic: string; payload: string } | undefined;
  retained: { topic: string; payload: string }[];
  combo: Combo | undefined;
}

/** A label as it goes into topics and ids: "traffic light" → traffic_light (wildcards and '/' would change a topic's meaning). */
export function topicLabel(label: string): string {
  return label.replace(/[^A-Za-z0-9_-]/g, '_');
}

export const availabilityTopic = (prefix: string): string => `${prefix}/available`;
export const countTopic = (prefix: string, camera: string, label: string): string => `${prefix}/${camera}/${topicLabel(label)}`;
export const zoneTopic = (prefix: string, camera: string, zone: string, label: string): string =>
  `${prefix}/${camera}/${zone}/${topicLabel(label)}`;
export const lineTopic = (prefix: string, camera: string, line: string, label: string, direction: 'in' | 'out'): string =>
  `${prefix}/${camera}/${line}/${topicLabel(label)}/${direction}`;
export const snapshotTopic = (prefix: string, camera: string): string => `${prefix}/${camera}/snapshot`;

type Component = 'sensor' | 'binary_sensor' | 'camera';

function entity(names: DiscoveryNames, camera: string, component: Component, objectId: string, fields: Record<string, unknown>): DiscoveryMessage {
  const config = {
    ...fields,
    unique_id: `lookout_${objectId}`,
    // object_id names the entity on Home Assistant before 2025.10; default_entity_id from then on (object_id is deprecated).
    object_id: objectId,
    default_entity_id: `${component}.${objectId}`,
    availability_topic: availabilityTopic(names.prefix),
    payload_available: 'online',
    payload_not_available: 'offline',
    device: { identifiers: [`lookout_${camera}`], name: camera, manufacturer: 'lookout', model: 'camera' },
    origin: { name: 'lookout' },
  };
  return { topic: `${names.discoveryPrefix}/${component}/lookout_${camera}/${objectId}/config`, payload: JSON.stringify(config) };
}

/** The camera entity showing the latest event snapshot. */
export function cameraDiscovery(names: DiscoveryNames, camera: string): DiscoveryMessage[] {
  return [entity(names, camera, 'camera', `${camera}_snapshot`, { name: 'snapshot', topic: snapshotTopic(names.prefix, camera) })];
}

/** The sensor counting a label's objects in view. */
export function countDiscovery(names: DiscoveryNames, camera: string, label: string): DiscoveryMessage[] {
  return [entity(names, camera, 'sensor', `${camera}_${topicLabel(label)}_count`, {
    name: `${label} count`,
    state_topic: countTopic(names.prefix, camera, label),
    state_class: 'measurement',
  })];
}

/** A zone's occupancy by a label: occupied or not, and how many. */
export function zoneDiscovery(names: DiscoveryNames, camera: string, zone: string, label: string): DiscoveryMessage[] {
  // "zone" in the id keeps it apart from a camera-wide count of a label that happens to contain an underscore.
  const id = `${camera}_zone_${zone}_${topicLabel(label)}`;
  const stateTopic = zoneTopic(names.prefix, camera, zone, label);
  return [
    entity(names, camera, 'binary_sensor', `${id}_occupancy`, {
      name: `${zone} ${label} occupancy`,
      state_topic: stateTopic,
      device_class: 'occupancy',
      value_template: "{{ 'ON' if (value | int(0)) > 0 else 'OFF' }}",
      payload_on: 'ON',
      payload_off: 'OFF',
    }),
    entity(names, camera, 'sensor', `${id}_count`, { name: `${zone} ${label} count`, state_topic: stateTopic, state_class: 'measurement' }),
  ];
}

/** A line's counters for a label, one sensor per direction. */
export function lineDiscovery(names: DiscoveryNames, camera: string, line: string, label: string): DiscoveryMessage[] {
  const id = `${camera}_line_${line}_${topicLabel(label)}`;
  return (['in', 'out'] as const).map((direction) => entity(names, camera, 'sensor', `${id}_${direction}`, {
    name: `${line} ${label} ${direction}`,
    state_topic: lineTopic(names.prefix, camera, line, label, direction),
    state_class: 'total_increasing',
  }));
}

const countCombo = (names: DiscoveryNames, camera: string, label: string): Combo =>
  ({ camera, key: `count\0${label}`, configs: () => countDiscovery(names, camera, label) });
const zoneCombo = (names: DiscoveryNames, camera: string, zone: string, label: string): Combo =>
  ({ camera, key: `zone\0${zone}\0${label}`, configs: () => zoneDiscovery(names, camera, zone, label) });
const lineCombo = (names: DiscoveryNames, camera: string, line: string, label: string): Combo =>
  ({ camera, key: `line\0${line}\0${label}`, configs: () => lineDiscovery(names, camera, line, label) });

/** The topics and payloads of one notice. */
export function noticeMessages(names: DiscoveryNames, n: Notice): NoticeMessages {
  const p = names.prefix;
  switch (n.kind) {
    case 'event':
      return { stream: { topic: `${p}/events`, payload: JSON.stringify({ phase: n.phase, time: n.time, event: n.event }) }, retained: [], combo: undefined };
    case 'zone': {
      const { phase, camera, zone, label, time, trackId, eventId, occupancy } = n;
      const payload = JSON.stringify({ phase, camera, zone, label, time, trackId, eventId, occupancy });
      return { stream: { topic: `${p}/zones`, payload }, retained: [], combo: undefined };
    }
    case 'crossing': {
      const { camera, line, label, direction, time, trackId, eventId, totals } = n;
      return {
        stream: { topic: `${p}/crossings`, payload: JSON.stringify({ camera, line, label, direction, time, trackId, eventId, totals }) },
        retained: [
          { topic: lineTopic(p, camera, line, label, 'in'), payload: String(totals.in) },
          { topic: lineTopic(p, camera, line, label, 'out'), payload: String(totals.out) },
        ],
        combo: lineCombo(names, camera, line, label),
      };
    }
    case 'count':
      return { stream: undefined, retained: [{ topic: countTopic(p, n.camera, n.label), payload: String(n.count) }], combo: countCombo(names, n.camera, n.label) };
    case 'occupancy':
      return {
        stream: undefined,
        retained: [{ topic: zoneTopic(p, n.camera, n.zone, n.label), payload: String(n.count) }],
        combo: zoneCombo(names, n.camera, n.zone, n.label),
      };
  }
}

/**
 * The catalog's combos, each with the state topic that starts at '0' when it
 * has no value yet (Home Assistant then shows 0 rather than unknown). Line
 * counters have none: they are totals from the log, and a retained 0 would
 * be a wrong total until the first crossing.
 */
export function catalogCombos(names: DiscoveryNames, cameras: ReturnType<NotifyCatalog['cameras']>): { combo: Combo; zero: string | undefined }[] {
  const p = names.prefix;
  return cameras.flatMap((c) => [
    { combo: { camera: c.id, key: '', configs: () => [] }, zero: undefined },
    ...c.labels.map((label) => ({ combo: countCombo(names, c.id, label), zero: countTopic(p, c.id, label) })),
    ...c.zones.flatMap((z) => z.labels.map((label) => ({ combo: zoneCombo(names, c.id, z.name, label), zero: zoneTopic(p, c.id, z.name, label) }))),
    ...c.lines.flatMap((l) => l.labels.map((label) => ({ combo: lineCombo(names, c.id, l.name, label), zero: undefined }))),
  ]);
}
