/**
 * The dashboard's one page, its script and its style, served from this process (no CDN, no
 * framework). Every text that comes from the ledger (reasons, evidence, names an operator typed)
 * is outside input: the script only ever sets it with textContent, never as HTML.
 */
export const dashboardPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="greenlight-token" content="__TOKEN__">
<title>greenlight dashboard</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header><h1>greenlight</h1><span id="status" role="status"></span></header>
<main>
<nav id="services" aria-label="services"></nav>
<section id="release" hidden>
  <h2 id="release-title"></h2>
  <p><span id="phase" class="phase"></span> <span id="reason"></span></p>
  <p id="traffic"></p>
  <p id="idle"></p>
  <div id="buttons">
    <input id="command-reason" placeholder="reason (required for abort and rollback)" size="40">
    <button data-command="pause">Pause</button>
    <button data-command="resume">Resume</button>
    <button data-command="promote">Promote</button>
    <button data-command="abort">Abort</button>
    <button data-command="rollback">Rollback service</button>
  </div>
  <p id="command-result" role="status"></p>
  <h3>Green weight over time</h3>
  <svg id="chart" width="640" height="200" viewBox="0 0 640 200" role="img" aria-label="green weight over time"></svg>
  <h3>Approvals</h3>
  <ul id="approvals"></ul>
  <h3>Timeline</h3>
  <table id="steps"><thead><tr><th>at</th><th>step</th><th>outcome</th><th>green %</th><th>reason and evidence</th></tr></thead><tbody></tbody></table>
</section>
</main>
</body>
</html>
`;

export const dashboardCss = `body { font-family: system-ui, sans-serif; margin: 0; color: #1b1f23; }
header { background: #14532d; color: white; padding: 0.5rem 1rem; display: flex; gap: 1rem; align-items: baseline; }
header h1 { margin: 0; font-size: 1.3rem; }
main { display: flex; gap: 1rem; padding: 1rem; }
nav { min-width: 18rem; }
nav h2 { font-size: 1rem; margin: 0.8rem 0 0.2rem; }
nav a { display: block; padding: 0.1rem 0; cursor: pointer; color: #0b5394; }
nav .warm { color: #92400e; font-size: 0.85rem; }
section { flex: 1; }
.phase { font-weight: bold; padding: 0.1rem 0.4rem; border-radius: 0.3rem; background: #e5e7eb; }
.phase.Finalized { background: #bbf7d0; } .phase.RolledBack, .phase.Failed { background: #fecaca; }
table { border-collapse: collapse; font-size: 0.85rem; }
td, th { border-bottom: 1px solid #e5e7eb; padding: 0.2rem 0.4rem; text-align: left; vertical-align: top; }
svg { background: #f9fafb; border: 1px solid #e5e7eb; }
svg polyline { fill: none; stroke: #16a34a; stroke-width: 2; }
svg circle { fill: #16a34a; }
svg text { font-size: 10px; fill: #6b7280; }
button { margin-right: 0.3rem; }
`;

export const dashboardJs = `'use strict';
(function () {
  var token = document.querySelector('meta[name="greenlight-token"]').getAttribute('content');
  var selected = null;
  var selectedService = null;
  var svgNs = 'http://www.w3.org/2000/svg';

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function show(id, text) { document.getElementById(id).textContent = text; }

  function getJson(path) {
    return fetch(path, { headers: { accept: 'application/json' } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body.error || r.statusText);
        return body;
      });
    });
  }

  function renderServices(body) {
    var nav = document.getElementById('services');
    clear(nav);
    body.services.forEach(function (service) {
      nav.appendChild(el('h2', service.name));
      if (service.warmWindow && service.warmWindow.open) {
        nav.appendChild(el('div', 'blue ' + service.warmWindow.colours.blue + ' warm until ' +
          service.warmWindow.teardownAt + ': rollback is one switch', 'warm'));
      }
      service.releases.forEach(function (release) {
        var link = el('a', release.version + '  ' + release.phase + '  ' + release.greenPercent + '%');
        link.dataset.releaseId = release.releaseId;
        link.addEventListener('click', function () {
          selected = release.releaseId;
          selectedService = service.name;
          refreshRelease();
        });
        nav.appendChild(link);
      });
    });
  }

  function evidenceText(step) {
    var parts = [step.reason];
    var ev = step.evidence || {};
    (ev.alarms || []).forEach(function (a) { parts.push('alarm ' + a.name + ': ' + a.state); });
    (ev.metrics || []).forEach(function (m) { parts.push('metric ' + (m.name || '') + ': ' + JSON.stringify(m)); });
    (ev.tests || []).forEach(function (t) { parts.push('test ' + t.name + ': ' + (t.passed ? 'passed' : 'failed')); });
    if (ev.error) parts.push(ev.error.name + ': ' + ev.error.message);
    (ev.warnings || []).forEach(function (w) { parts.push('warning: ' + w); });
    if (step.identity) parts.push('by ' + (step.identity.actor || '') + ' ' + (step.identity.principalArn || ''));
    return parts.join(' | ');
  }

  // Green weight after each step that set one, from the timeline: a step chart over time.
  function renderChart(release, steps) {
    var svg = document.getElementById('chart');
    clear(svg);
    var points = [];
    steps.forEach(function (s) {
      if (typeof s.greenPercent === 'number') points.push({ t: Date.parse(s.at), w: s.greenPercent });
    });
    if (points.length === 0) points.push({ t: Date.parse(release.updatedAt), w: release.greenPercent });
    var t0 = points[0].t, t1 = points[points.length - 1].t;
    var span = Math.max(1, t1 - t0);
    var left = 30, right = 630, top = 10, bottom = 180;
    function x(t) { return left + ((t - t0) / span) * (right - left); }
    function y(w) { return bottom - (w / 100) * (bottom - top); }
    [0, 50, 100].forEach(function (w) {
      var label = document.createElementNS(svgNs, 'text');
      label.setAttribute('x', '2'); label.setAttribute('y', String(y(w) + 3));
      label.textContent = w + '%';
      svg.appendChild(label);
    });
    var coords = [];
    points.forEach(function (p, i) {
      if (i > 0) coords.push(x(p.t) + ',' + y(points[i - 1].w));
      coords.push(x(p.t) + ',' + y(p.w));
    });
    var line = document.createElementNS(svgNs, 'polyline');
    line.setAttribute('points', coords.join(' '));
    svg.appendChild(line);
    points.forEach(function (p) {
      var dot = document.createElementNS(svgNs, 'circle');
      dot.setAttribute('cx', String(x(p.t))); dot.setAttribute('cy', String(y(p.w)));
      dot.setAttribute('r', '3');
      dot.setAttribute('data-weight', String(p.w));
      svg.appendChild(dot);
    });
  }

  function renderRelease(body) {
    var r = body.release;
    document.getElementById('release').hidden = false;
    document.getElementById('release').dataset.releaseId = r.releaseId;
    show('release-title', r.service + ' ' + r.version + ' (' + r.releaseId + ')');
    var phase = document.getElementById('phase');
    phase.textContent = r.phase;
    phase.className = 'phase ' + r.phase;
    show('reason', r.reason);
    show('traffic', 'green ' + r.greenPercent + '%' +
      (r.colours ? ' (blue ' + r.colours.blue + ', green ' + r.colours.green + ')' : '') +
      (r.control ? ' | control: ' + JSON.stringify(r.control) : ''));
    var idle = r.idle;
    show('idle', idle ? 'idle colour ' + idle.colour + ': ' + idle.state +
      (idle.teardownAt ? ', teardown at ' + idle.teardownAt : '') +
      (idle.cost ? ', costs ' + JSON.stringify(idle.cost) : '') : 'no idle colour yet');
    var approvals = document.getElementById('approvals');
    clear(approvals);
    body.approvals.forEach(function (a) {
      approvals.appendChild(el('li', a.stage + ': ' + a.status +
        (a.decidedBy ? ' by ' + a.decidedBy : '') + (a.decidedAt ? ' at ' + a.decidedAt : '') +
        (a.reason ? ' (' + a.reason + ')' : '')));
    });
    if (body.approvals.length === 0) approvals.appendChild(el('li', 'none requested'));
    var tbody = document.querySelector('#steps tbody');
    clear(tbody);
    body.steps.forEach(function (s) {
      var row = el('tr');
      row.appendChild(el('td', s.at));
      row.appendChild(el('td', s.step));
      row.appendChild(el('td', s.outcome));
      row.appendChild(el('td', typeof s.greenPercent === 'number' ? s.greenPercent : ''));
      row.appendChild(el('td', evidenceText(s)));
      tbody.appendChild(row);
    });
    renderChart(r, body.steps);
  }

  function refreshRelease() {
    if (selected === null) return Promise.resolve();
    return getJson('/api/releases/' + encodeURIComponent(selected)).then(renderRelease);
  }

  function refresh() {
    return getJson('/api/services').then(renderServices).then(refreshRelease).then(function () {
      show('status', 'updated ' + new Date().toLocaleTimeString());
    }).catch(function (error) { show('status', 'cannot read: ' + error.message); });
  }

  function command(name) {
    var reason = document.getElementById('command-reason').value;
    var path = name === 'rollback'
      ? '/api/services/' + encodeURIComponent(selectedService) + '/rollback'
      : '/api/releases/' + encodeURIComponent(selected) + '/' + name;
    show('command-result', name + ': sent, waiting for the outcome...');
    return fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-greenlight-token': token },
      body: JSON.stringify({ reason: reason }),
    }).then(function (r) { return r.json(); }).then(function (result) {
      var said = (result.out || []).concat(result.err || []).join(' ');
      show('command-result', name + ' (exit ' + result.exitCode + '): ' + (said || result.error || ''));
      return refresh();
    }).catch(function (error) { show('command-result', name + ' failed: ' + error.message); });
  }

  document.querySelectorAll('#buttons button').forEach(function (button) {
    button.addEventListener('click', function () { command(button.dataset.command); });
  });
  // Follows a running release without a reload: the ledger is read again every second.
  refresh();
  setInterval(refresh, 1000);
})();
`;
