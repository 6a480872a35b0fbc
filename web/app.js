// lookout's page: boots the views. The live view (live.js: camera tiles with
// their own video and boxes, the detection list) and the history views
// (history.js: events timeline, detection log). Plain ES modules, no build step.
import { LoggedOut } from './api.js';
import { byId } from './dom.js';
import { initHistory, showView } from './history.js';
import { startLive } from './live.js';

function route() {
  const name = location.hash.slice(1);
  showView(name === 'events' || name === 'detections' ? name : 'live');
}

async function start() {
  initHistory();
  window.addEventListener('hashchange', route);
  route();
  await startLive();
}

start().catch((err) => {
  if (err instanceof LoggedOut) return; // on the way to the login page
  const link = byId('link');
  link.dataset.state = 'down';
  link.textContent = `lookout unreachable: ${err instanceof Error ? err.message : String(err)}`;
});
