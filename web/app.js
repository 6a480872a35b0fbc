// lookout's page: boots the views. The live view (live.js: camera tiles with
// their own video and boxes, the detection list) and the history views
// (history.js: events timeline, detection log; recordings.js: what is recorded
// per camera), and the clip viewer over them (viewer.js). Who is looking
// (account.js) is asked first: a viewer's page has nothing that changes a
// camera. Plain ES modules, no build step.
import { showMe, whoAmI } from './account.js';
import { LoggedOut } from './api.js';
import { byId } from './dom.js';
import { closeEditor } from './editor.js';
import { initHistory, showView } from './history.js';
import { startLive } from './live.js';
import { initRecordings, showRecordings } from './recordings.js';
import { initViewer } from './viewer.js';

const VIEWS = ['live', 'events', 'recordings', 'detections'];

function route() {
  const hash = location.hash.slice(1);
  const name = VIEWS.includes(hash) ? hash : 'live';
  // The zone editor belongs to the live view: leaving it closes the editor (unsaved shapes go).
  if (name !== 'live') closeEditor();
  showView(name);
  showRecordings(name === 'recordings');
}

async function start() {
  const link = byId('link');
  showMe(await whoAmI((err) => {
    link.dataset.state = 'down';
    link.textContent = `lookout unreachable: ${err instanceof Error ? err.message : String(err)}`;
  }));
  initHistory();
  initViewer();
  initRecordings();
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
