/* seqa dashboard: plain JavaScript, no build step.  Data is only ever inserted as text nodes. */
'use strict';

/* ---- token: from #token=... (kept in localStorage) or typed in ---------------------------- */
(function () {
  const m = location.hash.match(/token=([A-Za-z0-9_\-]+)/);
  if (m) { localStorage.setItem('seqa_token', m[1]); history.replaceState(null, '', location.pathname + location.search); }
})();
const token = () => localStorage.getItem('seqa_token') || '';

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else if (k === 'style') e.style.cssText = v; else e.setAttribute(k, v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
  return e;
}
const svgEl = (tag, attrs) => { const e = document.createElementNS('http://www.w3.org/2000/svg', tag); for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v); return e; };

async function api(path, opts) {
  const r = await fetch(path, Object.assign({ headers: { Authorization: 'Bearer ' + token() } }, opts || {}));
  if (r.status === 401) { showLogin('This page needs an API token.'); throw new Error('unauthorised'); }
  const t = r.headers.get('content-type') || '';
  const body = t.includes('json') ? await r.json() : await r.text();
  if (!r.ok) throw new Error((body && body.error) || ('HTTP ' + r.status));
  return body;
}

function showLogin(msg) {
  const box = document.getElementById('login');
  if (!box || box.childNodes.length) return;
  const inp = el('input', { type: 'password', placeholder: 'bearer token', id: 'token' });
  const btn = el('button', {}, 'Use token');
  btn.onclick = () => { localStorage.setItem('seqa_token', inp.value.trim()); location.reload(); };
  box.append(el('div', { class: 'card' }, el('p', { class: 'error' }, msg), inp, ' ', btn));
}

const badge = (s) => el('span', { class: 'badge s-' + String(s || '').toLowerCase() }, s || '—');
const fmtS = (s) => s === null || s === undefined ? '—' : s < 90 ? s.toFixed(1) + ' s' : s < 5400 ? (s / 60).toFixed(1) + ' min' : (s / 3600).toFixed(2) + ' h';
const fmtT = (t) => t ? new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 19) : '—';
function progress(p, state) {
  const v = Math.max(0, Math.min(100, p || 0));
  return el('div', { class: 'progress' + (state === 'done' ? ' complete' : ''), role: 'progressbar', 'aria-valuenow': v.toFixed(0), title: v.toFixed(0) + ' %' },
            el('span', { style: 'width:' + v + '%' }));
}
function fill(tbody, rows) { tbody.replaceChildren(...rows); }

async function whoami() {
  try { const w = await api('/api/v1/whoami'); document.getElementById('who').textContent = w.client + ' (' + w.role + ')'; return w; } catch (e) { return null; }
}

/* ---- charts (SVG) ------------------------------------------------------------------------- */
function lineChart(title, ys, xs, opts) {
  const W = 420, H = 220, L = 48, R = 10, T = 24, B = 32;
  const svg = svgEl('svg', { class: (opts && opts.cls) || 'qc-plot', width: W, height: H, viewBox: `0 0 ${W} ${H}`, 'data-title': title });
  const n = ys.length;
  xs = xs || ys.map((_, i) => i + 1);
  let ymin = Math.min(0, ...ys), ymax = Math.max(...ys); if (ymax === ymin) ymax = ymin + 1;
  const xmin = Math.min(...xs), xmax = Math.max(...xs) === xmin ? xmin + 1 : Math.max(...xs);
  const X = (x) => L + (x - xmin) / (xmax - xmin) * (W - L - R), Y = (y) => H - B - (y - ymin) / (ymax - ymin) * (H - T - B);
  const t = svgEl('text', { x: L, y: 15 }); t.textContent = title; svg.append(t);
  svg.append(svgEl('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: '#a0aec0' }));
  svg.append(svgEl('line', { x1: L, y1: T, x2: L, y2: H - B, stroke: '#a0aec0' }));
  for (const v of [ymin, (ymin + ymax) / 2, ymax]) { const s = svgEl('text', { x: 4, y: Y(v) + 4 }); s.textContent = (+v.toPrecision(3)).toString(); svg.append(s); }
  if (!(opts && opts.labels)) for (const v of [xmin, xmax]) { const s = svgEl('text', { x: X(v) - 6, y: H - 12 }); s.textContent = (+v.toPrecision(4)).toString(); svg.append(s); }
  if (opts && opts.bars) {
    const band = (W - L - R) / n, bw = Math.max(1, band * 0.8);
    ys.forEach((y, i) => {
      svg.append(svgEl('rect', { x: L + i * band + band * 0.1, y: Y(y), width: bw, height: Math.max(0, H - B - Y(y)), fill: '#4299e1' }));
      if (opts.labels) { const s = svgEl('text', { x: L + i * band + band * 0.1, y: H - B + 12 }); s.textContent = opts.labels[i]; svg.append(s); }
    });
  } else {
    svg.append(svgEl('polyline', { points: ys.map((y, i) => X(xs[i]) + ',' + Y(y)).join(' '), fill: 'none', stroke: '#2b6cb0', 'stroke-width': 1.5 }));
  }
  return svg;
}

/* Numeric series anywhere in a QC result: arrays of numbers, of [x, y] pairs, or of objects
 * with two numeric members. */
function findSeries(obj, path, out) {
  if (out.length >= 12 || obj === null || typeof obj !== 'object') return out;
  if (Array.isArray(obj)) {
    if (obj.length >= 3 && obj.every((v) => typeof v === 'number')) out.push({ title: path, ys: obj });
    else if (obj.length >= 3 && obj.every((v) => Array.isArray(v) && v.length === 2 && v.every((w) => typeof w === 'number')))
      out.push({ title: path, xs: obj.map((v) => v[0]), ys: obj.map((v) => v[1]) });
    else if (obj.length >= 3 && obj.every((v) => v && typeof v === 'object' && !Array.isArray(v))) {
      const keys = Object.keys(obj[0]).filter((k) => typeof obj[0][k] === 'number');
      if (keys.length >= 2 && obj.every((v) => typeof v[keys[0]] === 'number' && typeof v[keys[1]] === 'number'))
        out.push({ title: path + ' (' + keys[1] + ' by ' + keys[0] + ')', xs: obj.map((v) => v[keys[0]]), ys: obj.map((v) => v[keys[1]]) });
    }
    return out;
  }
  for (const [k, v] of Object.entries(obj)) if (k !== 'gate' && k !== 'fingerprint') findSeries(v, path ? path + '.' + k : k, out);
  return out;
}

function findMetrics(obj, path, out) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return out;
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'metrics' && v && typeof v === 'object') {
      for (const [m, mv] of Object.entries(v)) {
        const val = mv && typeof mv === 'object' && 'value' in mv ? mv.value : mv;
        if (typeof val !== 'object') out.push([path, m, val, (mv && mv.unit) || '']);
      }
    } else if (k !== 'gate') findMetrics(v, path ? path + '.' + k : k, out);
  }
  return out;
}

/* ---- pages -------------------------------------------------------------------------------- */
async function pageJobs() {
  const [j, b] = await Promise.all([api('/api/v1/jobs?limit=500'), api('/api/v1/batches')]);
  const c = document.getElementById('counts');
  c.replaceChildren(...Object.entries(j.counts).map(([k, v]) => el('span', {}, badge(k), ' ', v)));
  fill(document.querySelector('#jobs tbody'), j.jobs.map((x) => el('tr', { 'data-job': x.id, 'data-state': x.state },
    el('td', { class: 'num' }, el('a', { href: 'job.html?id=' + x.id }, x.id)), el('td', {}, x.batch), el('td', {}, x.sample),
    el('td', {}, badge(x.state)), el('td', {}, x.stage || '—'), el('td', {}, progress(x.progress, x.state), ' ', Math.round(x.progress || 0) + ' %'),
    el('td', {}, x.device || '—'), el('td', { class: 'num' }, fmtS(x.elapsed_s)), el('td', {}, x.qc ? badge(x.qc) : '—'))));
  fill(document.querySelector('#batches tbody'), b.batches.map((x) => el('tr', {},
    el('td', {}, x.id), el('td', {}, x.client), el('td', {}, x.source), el('td', { class: 'num' }, x.n_jobs), el('td', { class: 'num' }, x.n_finished), el('td', {}, fmtT(x.created)))));
}

async function pageJob() {
  const id = new URLSearchParams(location.search).get('id');
  if (!id) { document.getElementById('title').textContent = 'no job id given'; return; }
  const j = await api('/api/v1/jobs/' + encodeURIComponent(id));
  document.getElementById('title').replaceChildren('Sample ', j.sample, ' — job ', j.id, ' ', badge(j.state));
  const kv = [['Batch', j.batch], ['Client', j.client], ['Pseudonym', j.spec.pseudonym], ['Indication', j.spec.indication], ['Sex', j.spec.sex],
    ['Stage', j.stage || '—'], ['Progress', progress(j.progress, j.state)], ['Device', j.device || '—'], ['Attempts', j.attempts],
    ['Started', fmtT(j.started)], ['Finished', fmtT(j.finished)], ['Elapsed', fmtS(j.elapsed_s)], ['QC', j.qc ? badge(j.qc) : '—'],
    ['Error', j.error || '—'], ['R1', j.spec.r1], ['R2', j.spec.r2], ['Output', j.outdir]];
  fill(document.querySelector('#job tbody'), kv.map(([k, v]) => el('tr', {}, el('td', {}, k), el('td', {}, v))));
  const act = document.getElementById('actions');
  if (!act.childNodes.length && (j.state === 'queued' || j.state === 'running')) {
    const b = el('button', { class: 'danger', id: 'cancel' }, 'Cancel job');
    b.onclick = async () => { try { await api('/api/v1/jobs/' + id + '/cancel', { method: 'POST' }); } catch (e) { alert(e.message); } };
    act.append(b);
  }
  if (!act.childNodes.length && j.state === 'held') {
    const why = el('input', { type: 'text', id: 'override-reason', placeholder: 'why the failed gate is overridden', size: 40 });
    const b = el('button', { class: 'danger', id: 'override' }, 'Override the failed QC gate');
    b.onclick = async () => {
      try { await api('/api/v1/jobs/' + id + '/override', { method: 'POST', body: JSON.stringify({ reason: why.value }) }); location.reload(); } catch (e) { alert(e.message); }
    };
    act.append(why, ' ', b);
  }
  const st = Object.entries(j.stage_times || {});
  const sd = document.getElementById('stages');
  sd.replaceChildren(st.length ? lineChart('stage wall time (s)', st.map((s) => s[1]), st.map((_, i) => i + 1), { bars: true, cls: 'chart', labels: st.map((s) => s[0]) }) : el('span', { class: 'muted' }, 'no stage finished yet'),
                     el('p', { class: 'muted' }, st.map(([k, v]) => k + ' ' + fmtS(v)).join(' · ')));
  let qc;
  try { qc = await api('/api/v1/jobs/' + encodeURIComponent(id) + '/qc'); } catch (e) { return; }
  const g = qc.gate || {};
  const gd = document.getElementById('qc-gate');
  gd.className = '';
  gd.replaceChildren(el('p', {}, 'Gate: ', badge(g.status || 'NA'), ' ', g.profile_id ? 'profile ' + g.profile_id + ' ' + (g.profile_version || '') : ''),
    el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'Metric'), el('th', {}, 'Value'), el('th', {}, 'Rule'), el('th', {}, 'Status'))),
      el('tbody', {}, ...(g.checks || []).map((c) => el('tr', {}, el('td', {}, c.metric), el('td', {}, String(c.value)), el('td', {}, [c.rule || '', c.fail !== undefined && c.fail !== null ? 'fail ' + c.fail : '', c.warn !== undefined && c.warn !== null ? 'warn ' + c.warn : ''].filter((x) => x).join(' · ')), el('td', {}, badge(c.status)))))));
  const ms = findMetrics(qc, '', []);
  const md = document.getElementById('qc-metrics');
  md.className = '';
  md.replaceChildren(el('table', { id: 'metrics' }, el('tbody', {}, ...ms.map(([p, m, v, u]) => el('tr', {}, el('td', {}, p), el('td', {}, m), el('td', { class: 'num' }, typeof v === 'number' ? +v.toPrecision(6) : String(v)), el('td', {}, u))))));
  const plots = findSeries(qc, '', []);
  document.getElementById('qc-plots').replaceChildren(...(plots.length ? plots.map((s) => lineChart(s.title, s.ys, s.xs, { bars: s.ys.length <= 40 })) : [el('span', { class: 'muted' }, 'no series in the QC result')]));
}

async function pageDevices() {
  const d = await api('/api/v1/devices');
  fill(document.querySelector('#slots tbody'), (d.slots || []).map((s) => el('tr', {}, el('td', {}, s.name), el('td', {}, s.backend),
    el('td', {}, s.job ? el('a', { href: 'job.html?id=' + s.job }, s.job) : 'idle'), el('td', { class: 'num' }, s.jobs), el('td', { class: 'num' }, fmtS(s.busy_s)))));
  fill(document.querySelector('#pci tbody'), !(d.pci || []).length ? [el('tr', {}, el('td', { colspan: 8, class: 'muted' }, 'no GPU, FPGA or other accelerator on the PCI bus'))] : d.pci.map((p) => el('tr', {}, el('td', {}, p.address), el('td', {}, p.kind), el('td', {}, p.vendor), el('td', {}, p.device),
    el('td', {}, p.link ? (p.link.speed || '?') + ' x' + p.link.width + ' (max ' + (p.link.max_speed || '?') + ' x' + p.link.max_width + ')' : '—'),
    el('td', {}, p.numa_node === null ? '—' : p.numa_node), el('td', {}, p.driver || '—'), el('td', {}, (p.runtime || []).map((r) => r.runtime + ': ' + r.name).join(', ') || '—'))));
  fill(document.querySelector('#runtimes tbody'), (d.runtimes || []).map((r) => el('tr', {}, el('td', {}, r.runtime), el('td', {}, r.platform || '—'), el('td', {}, r.name || '—'),
    el('td', {}, r.type || '—'), el('td', {}, r.pci || '—'), el('td', {}, r.available ? badge('available') : el('span', { class: 'muted' }, r.reason || 'absent')))));
  const st = d.selftest || [];
  fill(document.querySelector('#health tbody'), st.length ? st.map((s) => el('tr', {}, el('td', {}, s.backend), el('td', {}, s.device || '—'), el('td', {}, badge(s.status)),
    el('td', { class: 'num' }, s.max_abs_err === undefined ? '—' : s.max_abs_err.toExponential(2)), el('td', { class: 'num' }, s.seconds === undefined ? '—' : s.seconds.toFixed(3)))) :
    [el('tr', {}, el('td', { colspan: 5, class: 'muted' }, 'not run since the service started'))]);
  const b = document.getElementById('selftest');
  b.onclick = async () => { b.disabled = true; try { await api('/api/v1/devices/selftest', { method: 'POST' }); await pageDevices(); } catch (e) { alert(e.message); } b.disabled = false; };
}

async function pageOutbox() {
  let ob = null, runs = null;
  try { ob = await api('/api/v1/deliveries'); } catch (e) { document.getElementById('outbox-status').textContent = e.message; }
  if (ob) {
    document.getElementById('outbox-status').textContent = ob.available ? (ob.deliveries.length + ' deliveries') : ('outbox unavailable: ' + ob.reason);
    fill(document.querySelector('#outbox tbody'), ob.deliveries.map((x) => el('tr', {}, el('td', {}, String(x.id || '').slice(0, 16)), el('td', {}, x.sample || '—'),
      el('td', {}, badge(x.state)), el('td', { class: 'num' }, x.attempts === undefined ? '—' : x.attempts),
      el('td', {}, typeof x.updated === 'number' ? fmtT(x.updated) : (x.updated || '—')), el('td', {}, x.error || x.reason || ''))));
  }
  try { runs = await api('/api/v1/runs'); } catch (e) { return; }
  fill(document.querySelector('#runs tbody'), runs.runs.map((r) => el('tr', {}, el('td', {}, r.path), el('td', {}, r.run_id || '—'), el('td', {}, r.batch || '—'),
    el('td', {}, badge(r.batch ? 'submitted' : 'rejected'), ' ', r.batch ? '' : r.status), el('td', {}, fmtT(r.seen)))));
}

const pages = { jobs: pageJobs, job: pageJob, devices: pageDevices, outbox: pageOutbox };
async function refresh() {
  const f = pages[document.body.dataset.page];
  try { await f(); document.body.dataset.loaded = '1'; } catch (e) { if (e.message !== 'unauthorised') console.error(e); }
}
if (!token()) showLogin('Give an API token (it stays in this browser).');
else { whoami(); refresh(); if (document.body.dataset.page !== 'devices') setInterval(refresh, 3000); }
