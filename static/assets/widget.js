/*! Outcry status widget. Paste where it should appear:
 * <script async src="https://HOST/widget.js" data-service="chatgpt" data-report="true"
 *   data-theme="auto" data-lang="en"></script>
 * It renders into a Shadow DOM right after the tag, talks only to HOST (no
 * cookies), and asks for the status at most once a minute while visible. */
(function () {
  'use strict';
  var T = {
    en: ['No problems', 'Possible problems', 'Outage', 'Status unavailable', 'Report a problem', 'Send', 'What isn\u2019t working?',
      'Thanks \u2014 {n} people reported problems in the last 15 minutes', 'Thanks \u2014 your report was received',
      'Too many reports \u2014 try again in {n} s', 'Could not send \u2014 try again later', '{n} reports in 15 min', 'Cancel'],
    ko: ['\ubb38\uc81c \uc5c6\uc74c', '\ubb38\uc81c \uac00\ub2a5\uc131', '\uc7a5\uc560', '\uc0c1\ud0dc\ub97c \uc54c \uc218 \uc5c6\uc74c', '\ubb38\uc81c \uc2e0\uace0', '\ubcf4\ub0b4\uae30', '\uc5b4\ub5a4 \ubb38\uc81c\uac00 \uc788\ub098\uc694?',
      '\uac10\uc0ac\ud569\ub2c8\ub2e4 \u2014 \ucd5c\uadfc 15\ubd84\uac04 {n}\uba85\uc774 \ubb38\uc81c\ub97c \uc2e0\uace0\ud588\uc2b5\ub2c8\ub2e4', '\uac10\uc0ac\ud569\ub2c8\ub2e4 \u2014 \uc2e0\uace0\uac00 \uc811\uc218\ub418\uc5c8\uc2b5\ub2c8\ub2e4',
      '\uc2e0\uace0\uac00 \ub108\ubb34 \ub9ce\uc2b5\ub2c8\ub2e4 \u2014 {n}\ucd08 \ud6c4\uc5d0 \ub2e4\uc2dc \uc2dc\ub3c4\ud558\uc138\uc694', '\ubcf4\ub0b4\uc9c0 \ubabb\ud588\uc2b5\ub2c8\ub2e4 \u2014 \ub098\uc911\uc5d0 \ub2e4\uc2dc \uc2dc\ub3c4\ud558\uc138\uc694', '15\ubd84\uac04 {n}\uac74 \uc2e0\uace0', '\ucde8\uc18c'],
    id: ['Tidak ada masalah', 'Kemungkinan ada masalah', 'Gangguan', 'Status tidak tersedia', 'Laporkan masalah', 'Kirim', 'Apa yang tidak berfungsi?',
      'Terima kasih \u2014 {n} orang melaporkan masalah dalam 15 menit terakhir', 'Terima kasih \u2014 laporan Anda telah diterima',
      'Terlalu banyak laporan \u2014 coba lagi dalam {n} detik', 'Gagal mengirim \u2014 coba lagi nanti', '{n} laporan dalam 15 menit', 'Batal'],
    zh: ['\u8fd0\u884c\u6b63\u5e38', '\u53ef\u80fd\u5b58\u5728\u95ee\u9898', '\u670d\u52a1\u4e2d\u65ad', '\u72b6\u6001\u4e0d\u53ef\u7528', '\u62a5\u544a\u95ee\u9898', '\u63d0\u4ea4', '\u9047\u5230\u4e86\u4ec0\u4e48\u95ee\u9898\uff1f',
      '\u8c22\u8c22 \u2014 \u8fc7\u53bb 15 \u5206\u949f\u5185\u6709 {n} \u4eba\u62a5\u544a\u4e86\u95ee\u9898', '\u8c22\u8c22 \u2014 \u5df2\u6536\u5230\u4f60\u7684\u62a5\u544a',
      '\u62a5\u544a\u8fc7\u591a \u2014 \u8bf7\u5728 {n} \u79d2\u540e\u91cd\u8bd5', '\u53d1\u9001\u5931\u8d25 \u2014 \u8bf7\u7a0d\u540e\u91cd\u8bd5', '15 \u5206\u949f\u5185 {n} \u4efd\u62a5\u544a', '\u53d6\u6d88']
  };
  var LEVEL = { ok: 0, warning: 1, outage: 2 };
  var AC = { api: 'API', ai: 'AI', sso: 'SSO', ui: 'UI', dns: 'DNS', cdn: 'CDN', sms: 'SMS', '2fa': '2FA', mfa: 'MFA', vpn: 'VPN',
    ios: 'iOS', url: 'URL', ssl: 'SSL', gpu: 'GPU', tv: 'TV', pc: 'PC', otp: 'OTP', id: 'ID', sdk: 'SDK', cli: 'CLI' };
  var CSS = ':host{all:initial!important;display:inline-block!important;max-width:100%;vertical-align:middle}' +
    '.w{--bg:#fff;--fg:#1c2024;--mu:#5b616b;--bd:#e2e4e9;--ac:#3451c7;--c:#30a46c;font:14px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;' +
    'color:var(--fg);background:var(--bg);border:1px solid var(--bd);border-radius:10px;padding:8px 12px;box-sizing:border-box;min-width:220px;max-width:420px}' +
    '.dark{--bg:#19191c;--fg:#edeef0;--mu:#b0b4ba;--bd:#2e3035;--ac:#8da4ef}' +
    '@media (prefers-color-scheme:dark){.auto{--bg:#19191c;--fg:#edeef0;--mu:#b0b4ba;--bd:#2e3035;--ac:#8da4ef}}' +
    '.warning{--c:#f5a524}.outage{--c:#e5484d}.unknown{--c:#9f9f9f}' +
    '.m{display:flex;align-items:center;gap:10px;color:inherit;text-decoration:none}' +
    '.d{width:10px;height:10px;border-radius:50%;background:var(--c);flex:none}' +
    '.t{flex:1;min-width:0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}small{display:block;color:var(--mu);font-size:12px}' +
    'svg{width:64px;height:24px;flex:none;color:var(--c)}' +
    'button,select{font:inherit;font-size:13px;border-radius:8px;border:1px solid var(--bd);background:var(--bg);color:var(--fg);padding:5px 10px;cursor:pointer}' +
    '.s{background:var(--ac);border-color:var(--ac);color:var(--bg);font-weight:600}.r{margin-top:8px}' +
    'form{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin-top:8px}label{display:contents;color:var(--mu);font-size:12px}' +
    'p{margin:6px 0 0;font-size:12px;color:var(--mu)}p:empty{display:none}[hidden]{display:none!important}' +
    ':focus-visible{outline:2px solid var(--ac);outline-offset:2px}';
  var HTML = '<div class="w"><a class="m" target="_blank" rel="noopener"><span class="d"></span>' +
    '<span class="t"><b></b> <span class="st"></span><small></small></span>' +
    '<svg viewBox="0 0 95 24" preserveAspectRatio="none" aria-hidden="true"><path fill="currentColor" fill-opacity=".15"/>' +
    '<polyline fill="none" stroke="currentColor" stroke-width="1.5" vector-effect="non-scaling-stroke"/></svg></a>' +
    '<button class="r" type="button" hidden></button>' +
    '<form hidden><label><span></span><select required></select></label><button class="s" type="submit"></button>' +
    '<button class="x" type="button"></button></form><p role="status" aria-live="polite"></p></div>';

  function label(p) {
    return p.split(/[-_]/).map(function (w, i) {
      return AC[w] || (i ? w : w.charAt(0).toUpperCase() + w.slice(1));
    }).join(' ');
  }

  function boot(s) {
    var d = s.dataset, slug = d.service;
    if (!slug || !/^[a-z0-9-]{1,64}$/.test(slug) || d.outcryDone) return;
    d.outcryDone = '1';
    var base = s.src.replace(/\/widget\.js([?#].*)?$/, ''), api = base + '/api/v1/services/' + slug;
    var lang = (d.lang || navigator.language || 'en').toLowerCase().slice(0, 2);
    var t = T[lang] ? T[lang] : T[lang = 'en'];
    var theme = /^(light|dark)$/.test(d.theme) ? d.theme : 'auto';
    var host = document.createElement('outcry-widget');
    s.parentNode.insertBefore(host, s.nextSibling);
    var root = host.attachShadow({ mode: 'open' });
    root.innerHTML = HTML;
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      var st = document.createElement('style');
      st.textContent = CSS;
      root.prepend(st);
    }
    var $ = function (q) { return root.querySelector(q); };
    var w = $('.w'), form = $('form'), sel = $('select'), rb = $('.r'), msg = $('p'), send = $('.s');
    var fmt = function (k, n) { return t[k].replace('{n}', Number(n).toLocaleString(lang)); };
    w.lang = lang;
    w.className = 'w unknown ' + theme;
    $('a').href = base + '/s/' + slug;
    $('b').textContent = slug;
    $('.st').textContent = t[3];
    rb.textContent = t[4];
    send.textContent = t[5];
    $('label span').textContent = t[6];
    $('.x').textContent = t[12];

    function show(j) {
      var lv = LEVEL[j.status] || 0, sp = j.sparkline || [], top = Math.max.apply(null, sp.concat(1)), pts = [];
      w.className = 'w ' + (j.status || 'ok') + ' ' + theme;
      $('b').textContent = j.name || slug;
      $('.st').textContent = t[lv];
      var o = j.official, off = '';
      if (o) off = o.unavailable_since ? ' \u00b7 official: unavailable' : ' \u00b7 official: ' + String(o.status).replace(/_/g, ' ');
      $('small').textContent = fmt(11, j.reports_last_15m || 0) + off;
      sp.forEach(function (c, i) { pts.push(i + ',' + (23 - 21 * c / top).toFixed(1)); });
      $('svg').setAttribute('viewBox', '0 0 ' + Math.max(sp.length - 1, 1) + ' 24');
      $('polyline').setAttribute('points', pts.join(' '));
      $('path').setAttribute('d', pts.length ? 'M0 24L' + pts.join('L') + 'L' + (sp.length - 1) + ' 24Z' : '');
      if (d.report === 'true' && j.problems && !sel.options.length) {
        j.problems.forEach(function (p) { sel.add(new Option(label(p), p)); });
        rb.hidden = false;
      }
    }

    // At most one status request a minute, none while the page is hidden.
    var due = false;
    function tick() {
      if (document.hidden) { due = true; return; }
      due = false;
      fetch(api, { credentials: 'omit' })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) { if (j) show(j); })
        .catch(function () {});
      setTimeout(tick, 60000);
    }
    document.addEventListener('visibilitychange', function () { if (due && !document.hidden) tick(); });
    tick();

    rb.addEventListener('click', function () { rb.hidden = true; form.hidden = false; msg.textContent = ''; sel.focus(); });
    $('.x').addEventListener('click', function () { form.hidden = true; rb.hidden = false; rb.focus(); });
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      send.disabled = true;
      fetch(api + '/reports', {
        method: 'POST', credentials: 'omit', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ problem: sel.value })
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (b) {
          var n = b.reports_last_15m || 0;
          msg.textContent = r.status === 202 ? (n > 1 ? fmt(7, n) : t[8])
            : r.status === 429 ? fmt(9, parseInt(r.headers.get('Retry-After'), 10) || 60) : t[10];
          if (r.status === 202) form.hidden = true;
        });
      }).catch(function () { msg.textContent = t[10]; })
        .then(function () { send.disabled = false; if (form.hidden) rb.hidden = false; });
    });
  }

  var cur = document.currentScript;
  if (cur) boot(cur);
  else [].forEach.call(document.querySelectorAll('script[data-service][src*="widget.js"]'), boot);
})();
