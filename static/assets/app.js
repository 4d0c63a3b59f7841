// Outcry public pages: progressive enhancement only. Every page works
// without this script; with it, times are local, the directory filters as
// you type, a service page refreshes itself and reports are sent in place.
(function () {
  'use strict';
  document.documentElement.classList.add('js');

  // Times arrive in UTC; show them in the reader's time zone.
  function localTimes(root) {
    root.querySelectorAll('time[data-local]').forEach(function (t) {
      var d = new Date(t.dateTime);
      if (isNaN(d)) return;
      var o = { hour: '2-digit', minute: '2-digit' };
      if (Date.now() - d > 20 * 3600e3) { o.month = 'short'; o.day = 'numeric'; }
      t.textContent = d.toLocaleString([], o);
      t.title = d.toString();
    });
  }
  localTimes(document);

  // Directory: filter this page of the list as you type; submitting the
  // form searches the whole catalogue on the server.
  var q = document.querySelector('input[data-filter]');
  if (q) {
    var list = document.getElementById(q.dataset.filter);
    var none = document.getElementById(q.dataset.filter + '-none');
    var filter = function () {
      var v = q.value.trim().toLowerCase(), shown = 0;
      list.querySelectorAll('li').forEach(function (li) {
        var a = li.querySelector('a'), name = li.querySelector('.name');
        var text = ((name ? name.textContent : '') + ' ' + (a ? a.getAttribute('href') : '')).toLowerCase();
        var hit = !v || text.indexOf(v) >= 0;
        li.hidden = !hit;
        if (hit) shown++;
      });
      if (none) none.hidden = shown > 0;
    };
    q.addEventListener('input', filter);
  }

  // Service page: refresh the live part every 30 s while it is visible.
  var main = document.querySelector('main[data-live]');
  var live = document.getElementById('live');
  if (main && live) {
    var last = null, at = Date.now();
    var refresh = function () {
      at = Date.now();
      fetch(main.dataset.live, { cache: 'no-cache', headers: { Accept: 'text/html' } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html === null || html === last) return;
          if (last !== null) { live.innerHTML = html; localTimes(live); }
          last = html;
        })
        .catch(function () {});
    };
    setInterval(function () { if (!document.hidden) refresh(); }, 30000);
    document.addEventListener('visibilitychange', function () {
      if (!document.hidden && Date.now() - at > 30000) refresh();
    });
    refresh();
  }

  // Report form: send through the API and say thanks in place.
  var form = document.querySelector('form[data-api]');
  if (form) {
    var status = document.getElementById('report-status');
    var button = form.querySelector('button[type=submit]');
    var say = function (kind, text) { status.className = 'notice ' + kind; status.textContent = text; };
    var wait = function (s) {
      return s < 90 ? s + (s === 1 ? ' second' : ' seconds') : Math.ceil(s / 60) + ' minutes';
    };
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var p = form.querySelector('input[name=problem]:checked');
      if (!p) { say('error', 'Choose what isn\u2019t working first.'); return; }
      button.disabled = true;
      say('', 'Sending\u2026');
      fetch(form.dataset.api, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ problem: p.value, note: form.elements.note.value })
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (b) {
          if (r.status === 202) {
            var n = b.reports_last_15m || 0;
            say('ok', n > 1 ? 'Thanks \u2014 ' + n.toLocaleString('en') + ' people reported problems in the last 15 minutes.'
              : 'Thanks \u2014 your report was received.');
            form.elements.note.value = '';
          } else if (r.status === 429) {
            var s = parseInt(r.headers.get('Retry-After'), 10) || 60;
            say('warn', 'You have sent several reports just now. Thank you \u2014 please try again in ' + wait(s) + '.');
          } else {
            say('error', 'Your report could not be sent: ' + ((b.error && b.error.message) || 'please try again later') + '.');
          }
        });
      }).catch(function () {
        say('error', 'Your report could not be sent. Check your connection and try again.');
      }).then(function () { button.disabled = false; });
    });
  }
})();
