// The page of `lookout serve` before cameras arrive: model-server status and a
// one-image detector. Plain ES module, no build step.
const $ = (id) => document.getElementById(id);

/** One stable colour per class id, so a class looks the same on every image. */
function colour(classId) {
  return `hsl(${(classId * 137.508) % 360}, 75%, 55%)`;
}

async function refreshModel() {
  const pill = $('model');
  try {
    const [ready, model] = await Promise.all([fetch('readyz').then((r) => r.json()), fetch('api/model').then((r) => r.json())]);
    const state = ready.ready ? 'AVAILABLE' : (ready.versions?.[0]?.state ?? 'down');
    pill.dataset.state = state;
    pill.textContent = `model "${model.modelName}": ${ready.ready ? 'ready' : state.toLowerCase()}`;
    const rows = [
      ['address', model.address + (model.embedded ? ' (embedded)' : '')],
      ['model', model.modelName],
      ['versions', (model.versions ?? []).map((v) => `${v.version} ${v.state}`).join(', ') || '—'],
      ['signature', model.signatureName],
      ['input', model.signature ? `${model.signature.inputAlias} ${model.signature.inputDtype} [${model.signature.inputShape.join(', ')}]` : '—'],
      ['runs on', model.description ?? 'TF Serving'],
    ];
    if (model.error) rows.push(['error', model.error]);
    $('details').replaceChildren(...rows.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      return [dt, dd];
    }));
  } catch (err) {
    pill.dataset.state = 'down';
    pill.textContent = `lookout unreachable: ${err.message}`;
  }
}

async function detect(file) {
  const bitmap = await createImageBitmap(file);
  const canvas = $('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(bitmap, 0, 0);
  const list = $('detections');
  list.replaceChildren();
  const res = await fetch('api/detect', { method: 'POST', headers: { 'content-type': file.type || 'image/jpeg' }, body: file });
  const body = await res.json();
  if (!res.ok) {
    const li = document.createElement('li');
    li.textContent = `error ${res.status}: ${body.error}`;
    list.append(li);
    return;
  }
  const line = Math.max(2, Math.round(bitmap.width / 320));
  ctx.font = `${Math.max(12, Math.round(bitmap.width / 50))}px system-ui, sans-serif`;
  for (const d of body.detections) {
    const [ymin, xmin, ymax, xmax] = d.box;
    const x = xmin * bitmap.width, y = ymin * bitmap.height, w = (xmax - xmin) * bitmap.width, h = (ymax - ymin) * bitmap.height;
    ctx.strokeStyle = ctx.fillStyle = colour(d.classId);
    ctx.lineWidth = line;
    ctx.strokeRect(x, y, w, h);
    const text = `${d.label} ${Math.round(d.score * 100)}%`;
    const tw = ctx.measureText(text).width + 8;
    const th = parseInt(ctx.font, 10) + 6;
    ctx.fillRect(x - line / 2, Math.max(0, y - th), tw, th);
    ctx.fillStyle = '#000';
    ctx.fillText(text, x + 4, Math.max(th - 6, y - 6));
    const li = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = colour(d.classId);
    li.append(sw, `${d.label} — ${(d.score * 100).toFixed(1)}%`);
    list.append(li);
  }
  if (body.detections.length === 0) list.append(Object.assign(document.createElement('li'), { textContent: 'nothing found' }));
}

$('file').addEventListener('change', (e) => e.target.files[0] && detect(e.target.files[0]));
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  if (e.dataTransfer.files[0]) detect(e.dataTransfer.files[0]);
});
refreshModel();
setInterval(refreshModel, 5000);
