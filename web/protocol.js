// The live view's wire format (README, "Live view protocol"): binary messages
// are a 4-byte big-endian header length, the header as UTF-8 JSON, then the
// payload; text messages are JSON. This module only reads them; what to do
// with them is live.js's and the player's business.

/** @typedef {[number, number, number, number]} Box [ymin, xmin, ymax, xmax], normalized 0–1 */

/**
 * @typedef {object} Detection
 * @property {string} label
 * @property {number} classId
 * @property {number} score
 * @property {Box} box
 * @property {number | null} [trackId] the tracker's id, the same across frames (null when untracked)
 * @property {string | null} [filtered] null when it counts; else why not: "minScore", "area", "ratio", "mask", or "threshold" (its track's median score is not there yet)
 */

/**
 * @typedef {object} DetectionsMessage
 * @property {'detections'} type
 * @property {string} camera
 * @property {string} frameId
 * @property {number} [run] the stream's timeline (absent from servers without native video)
 * @property {number} [pts] the detection frame's presentation time on that timeline, in seconds
 * @property {number} timestamp
 * @property {number} width
 * @property {number} height
 * @property {number} [latencyMs]
 * @property {Box[] | null} [regions] the squares the model looked at for this frame (null: the whole frame)
 * @property {Detection[]} detections
 */

/**
 * What moved in one detection frame and what the model was given of it;
 * one for every detection frame, skipped ones included.
 * @typedef {object} MotionMessage
 * @property {'motion'} type
 * @property {string} camera
 * @property {number} [run]
 * @property {number | null} pts the detection frame's presentation time on the run's timeline, in seconds
 * @property {number} timestamp when lookout read the frame (ms since the epoch)
 * @property {'off' | 'calibrating' | 'still' | 'motion'} state
 * @property {Box[]} boxes what moved
 * @property {number} changed the share of the picture that changed, 0–1
 * @property {'full' | 'regions' | 'skipped'} sent what the model was given
 * @property {string} reason why ("motion", "still", "periodic", "objects", …)
 * @property {Box[] | null} regions the squares the model was given (null: the whole frame, or nothing)
 */

/**
 * @typedef {object} StatusMessage
 * @property {'status'} type
 * @property {string} camera
 * @property {string} state
 * @property {string | null} [lastError]
 * @property {{ decoded?: number, live?: number, detect?: number }} fps
 * @property {Record<string, number>} [dropped]
 * @property {{ p50?: number | null, p95?: number | null }} [latencyMs]
 * @property {number} [restarts]
 * @property {number} [viewers]
 * @property {{ codec?: string, transcoded?: boolean, from?: string } | null} [video]
 * @property {{ state: string, lastError?: string | null }} model
 */

/**
 * @typedef {object} EventRecord
 * @property {string} id
 * @property {string} camera
 * @property {string} label
 * @property {number} classId
 * @property {number} maxScore
 * @property {number} start
 * @property {number | null} end
 * @property {string | null} [snapshot]
 * @property {number} [snapshotBytes]
 * @property {string[]} [zones] the zones it entered
 */

/** @typedef {[number, number]} Point [x, y], normalized 0–1 of the picture: x right, y down */
/** @typedef {'bottom-center' | 'center' | 'top-center'} Anchor the point of a box that stands for the object */

/**
 * @typedef {object} Zone
 * @property {string} name
 * @property {Point[]} points a polygon, 3–64 points
 * @property {string[]} labels the labels it watches ([]: all)
 * @property {number | null} loiterSeconds
 * @property {number} inertia
 * @property {Anchor} anchor
 */

/**
 * @typedef {object} CountLine
 * @property {string} name
 * @property {Point[]} points A then B: crossing from the left of A→B to its right (on the picture) is "in"
 * @property {string[]} labels
 * @property {Anchor} anchor
 */

/** @typedef {{ zones: Zone[], lines: CountLine[], masks: Point[][] }} Shapes a camera's zones, lines and masks */

/**
 * @typedef {object} Analytics
 * @property {Record<string, Record<string, number>>} zones zone → label → objects in it now
 * @property {Record<string, Record<string, { in: number, out: number }>>} lines line → label → all-time counters
 * @property {Record<string, number>} counts label → objects in view
 */

/** @typedef {{ type: 'analytics', camera: string } & Analytics} AnalyticsMessage */

/**
 * @typedef {object} ZoneMessage
 * @property {'zone'} type
 * @property {'enter' | 'exit' | 'loiter'} phase
 * @property {string} camera
 * @property {string} zone
 * @property {string} label
 * @property {number} trackId
 * @property {string} eventId
 * @property {number} time
 * @property {number} occupancy
 */

/**
 * @typedef {object} CrossingMessage
 * @property {'crossing'} type
 * @property {string} camera
 * @property {string} line
 * @property {string} label
 * @property {'in' | 'out'} direction
 * @property {number} trackId
 * @property {string} eventId
 * @property {number} time
 * @property {{ in: number, out: number }} totals
 */

/** @typedef {{ type: 'event', phase: 'start' | 'update' | 'end', event: EventRecord }} EventMessage */
/** @typedef {{ type: 'subscribed', cameras: string[] }} SubscribedMessage */
/** @typedef {{ type: 'error', message: string }} ErrorMessage */
/** @typedef {DetectionsMessage | StatusMessage | EventMessage | SubscribedMessage | ErrorMessage | AnalyticsMessage | ZoneMessage | CrossingMessage | MotionMessage} TextMessage */

/**
 * @typedef {object} JpegHeader
 * @property {'jpeg'} kind
 * @property {string} camera
 * @property {string} [frameId]
 * @property {number} timestamp
 * @property {number} width
 * @property {number} height
 * @property {number} [pts]
 * @property {string | null} [detectionsFrameId]
 * @property {number | null} [boxAgeMs]
 */

/**
 * @typedef {object} InitHeader
 * @property {'init'} kind
 * @property {string} camera
 * @property {number} run a new run means the camera's ffmpeg restarted: a new timeline
 * @property {string} codec
 * @property {string} mime ready for MediaSource.isTypeSupported
 * @property {number} width
 * @property {number} height
 * @property {number} timescale
 * @property {boolean} transcoded
 */

/**
 * @typedef {object} MediaHeader
 * @property {'media'} kind
 * @property {string} camera
 * @property {number} run
 * @property {number} seq
 * @property {number} pts the fragment's first frame, in seconds on the run's timeline
 * @property {number} duration seconds
 * @property {boolean} keyframe
 * @property {number} receivedAt when lookout got it from ffmpeg (ms since the epoch)
 * @property {number} [skipped] fragments this viewer missed (its socket was full) before this one
 */

/** @typedef {JpegHeader | InitHeader | MediaHeader} BinaryHeader */
/** @typedef {{ header: BinaryHeader, payload: Uint8Array<ArrayBuffer> }} BinaryMessage */

const decoder = new TextDecoder();

/** A binary message's header and payload (a view into `data`, not a copy). */
export function parseBinary(/** @type {ArrayBuffer} */ data) {
  if (data.byteLength < 4) throw new Error(`binary message of ${data.byteLength} bytes has no header length`);
  const length = new DataView(data).getUint32(0);
  if (4 + length > data.byteLength) throw new Error(`header of ${length} bytes runs past the ${data.byteLength}-byte message`);
  /** @type {BinaryHeader} */
  const header = JSON.parse(decoder.decode(new Uint8Array(data, 4, length)));
  if (typeof header?.kind !== 'string' || typeof header.camera !== 'string') throw new Error('binary header without kind or camera');
  return /** @type {BinaryMessage} */ ({ header, payload: new Uint8Array(data, 4 + length) });
}

/** A text message, or undefined when it is not one the page knows. */
export function parseText(/** @type {string} */ data) {
  /** @type {unknown} */
  const message = JSON.parse(data);
  if (typeof message !== 'object' || message === null || !('type' in message)) return undefined;
  return /** @type {TextMessage} */ (message);
}

/** A codec string ("avc1.64001f", "hvc1.1.6.L93.B0", "h264") as people say it: "H.264". */
export function codecName(/** @type {string} */ codec) {
  const c = codec.toLowerCase();
  if (c.startsWith('avc') || c === 'h264') return 'H.264';
  if (c.startsWith('hvc') || c.startsWith('hev') || c === 'h265') return 'H.265';
  if (c.startsWith('av01') || c === 'av1') return 'AV1';
  return codec.toUpperCase();
}

/**
 * What to ask the server for per camera: the camera's own video, the
 * annotated JPEG frames, or detections and status only.
 * @typedef {'native' | 'jpeg' | 'none'} VideoChoice
 */

/** The subscribe message for these cameras with these video choices. */
export function subscribeMessage(/** @type {string[]} */ cameras, /** @type {Record<string, VideoChoice>} */ video) {
  return JSON.stringify({ type: 'subscribe', cameras, video });
}
