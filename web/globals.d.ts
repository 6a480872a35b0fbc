// What the page uses that TypeScript's DOM library does not describe yet, and
// the hooks the page leaves on window for the tests and the benchmark.
// Type declarations only: the browser never loads this file.
import type { DrawnLog } from './drawn.js';
import type { MotionLog } from './motion.js';
import type { ZonesLog } from './zones.js';

declare global {
  interface Window {
    /** Safari's (iOS 17.1+) Media Source Extensions, where MediaSource itself is missing. */
    ManagedMediaSource?: typeof MediaSource;
    /** What the overlay drew per presented frame, per camera (see drawn.js). */
    lookoutDrawn: DrawnLog;
    /** What the zones layers drew per camera, the live messages counted, and the editor's state (see zones.js). */
    lookoutZones: ZonesLog;
    /** What each tile's motion layer shows now, and whether the switch is on (see motion.js). */
    lookoutMotion: MotionLog;
  }
}
