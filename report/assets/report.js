(function () {
  "use strict";
  // audit report script. Every value from the data block is attacker-
  // controlled: it is only ever written with textContent, element values
  // and attributes set through the DOM, never parsed as HTML.
  var errors = [];
  var started = Date.now();
  window.addEventListener("error", function (e) { errors.push(String(e && e.message ? e.message : e)); });

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  var raw = JSON.parse($("audit-data").textContent);
  var S = raw.s || [""], N = raw.n || [], O = raw.o || [], ALL = raw.f || [], ROLES = raw.r || [], TDS = raw.t || [], RULES = raw.rules || {};
  var SEV_ORDER = ["critical", "high", "medium", "low", "info"];
  var SEV_RANK = { critical: 5, high: 4, medium: 3, low: 2, info: 1 };
  function sevClass(s) { return SEV_RANK[s] ? "sev-" + s : "sev-unknown"; }
  function rank(s) { return SEV_RANK[s] || 0; }

  // Field positions of a finding row (see htmlData in html.go). The first
  // STRINGS entries index the string table.
  var F = { sev: 0, rule: 1, title: 2, acc: 3, accName: 4, region: 5, rtype: 6, res: 7, td: 8, cont: 9, role: 10,
    msg: 11, rem: 12, id: 13, impact: 14, fixLayer: 15, fixSum: 16, change: 17, state: 18,
    need: 19, dec: 20, exc: 21, facts: 22, sugg: 23, needs: 24, unk: 25, cons: 26, feat: 27, vals: 28, probs: 29,
    aff: 30, fix: 31, sup: 32, members: 33, items: 34 };
  var STRINGS = 19;
  function fs(f, k) { return S[f[F[k]]]; }
  function obj(i) { return i >= 0 ? O[i] : null; }

  function badge(sev) { return el("span", "badge " + sevClass(sev), sev || "unknown"); }

  function copyText(text, btn) {
    var note = btn.nextSibling && btn.nextSibling.className === "copied" ? btn.nextSibling : null;
    if (!note) { note = el("span", "copied"); btn.parentNode.insertBefore(note, btn.nextSibling); }
    function done(ok) { note.textContent = ok ? "Copied" : "Copy failed: select the text and copy it"; }
    function fallback() {
      var ta = document.createElement("textarea");
      ta.value = text;
      ta.setAttribute("readonly", "");
      ta.style.position = "fixed";
      ta.style.opacity = "0";
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(ta);
      done(ok);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
    } else {
      fallback();
    }
  }
  function copyButton(text) {
    var b = el("button", "copy", "Copy");
    b.type = "button";
    b.addEventListener("click", function () { copyText(text, b); });
    return b;
  }

  // ---- pager -------------------------------------------------------------
  function Pager(container, onChange, sizes) {
    this.c = container; this.onChange = onChange; this.page = 0; this.size = sizes[0]; this.sizes = sizes; this.total = 0;
  }
  Pager.prototype.pages = function () { return Math.max(1, Math.ceil(this.total / this.size)); };
  Pager.prototype.slice = function () { var a = this.page * this.size; return [a, Math.min(this.total, a + this.size)]; };
  Pager.prototype.go = function (p) { this.page = Math.max(0, Math.min(this.pages() - 1, p)); this.onChange(); };
  Pager.prototype.render = function () {
    var self = this, c = this.c;
    clear(c);
    var r = this.slice();
    c.appendChild(el("span", "info", this.total === 0 ? "Nothing to show" :
      "Showing " + (r[0] + 1) + "–" + r[1] + " of " + this.total));
    function btn(label, target, disabled) {
      var b = el("button", null, label);
      b.type = "button";
      b.disabled = disabled;
      b.addEventListener("click", function () { self.go(target); });
      c.appendChild(b);
      return b;
    }
    btn("« First", 0, this.page === 0);
    btn("‹ Prev", this.page - 1, this.page === 0);
    c.appendChild(el("span", "page", "Page " + (this.page + 1) + " of " + this.pages()));
    this.nextButton = btn("Next ›", this.page + 1, this.page >= this.pages() - 1);
    btn("Last »", this.pages() - 1, this.page >= this.pages() - 1);
    if (this.sizes.length > 1) {
      var sel = el("select");
      sel.setAttribute("aria-label", "Rows per page");
      this.sizes.forEach(function (n) {
        var o = el("option", null, n + " per page");
        o.value = String(n);
        if (n === self.size) { o.selected = true; }
        sel.appendChild(o);
      });
      sel.addEventListener("change", function () { self.size = parseInt(sel.value, 10); self.go(0); });
      c.appendChild(sel);
    }
  };

  // ---- findings ----------------------------------------------------------
  var fstate = { sev: -1, rule: -1, acc: -1, region: -1, status: "", q: "", sortKey: "", sortDir: 0, view: [], open: {} };
  var hay = [];
  function haystack(i) {
    var h = hay[i];
    if (h === undefined) {
      var f = ALL[i], parts = [];
      for (var k = 0; k < STRINGS; k++) { parts.push(S[f[k]]); }
      var members = obj(f[F.members]);
      if (members) { parts.push(members.join("\u0001")); }
      h = hay[i] = parts.join("\u0001").toLowerCase();
    }
    return h;
  }
  // What triage says of a finding: new since the baseline, accepted (or
  // expiring), acceptance expired.
  function isNew(f) { return fs(f, "change") === "new"; }
  function accepted(f) { var s = fs(f, "state"); return s === "accepted" || s === "expiring"; }
  var STATUS = {
    "new": isNew,
    open: function (f) { return !accepted(f); },
    accepted: accepted,
    expired: function (f) { return fs(f, "state") === "expired"; }
  };
  var sortValue = {
    sev: function (f) { return rank(fs(f, "sev")); },
    rule: function (f) { return fs(f, "rule"); },
    account: function (f) { return (fs(f, "accName") + " " + fs(f, "acc")).toLowerCase(); },
    region: function (f) { return fs(f, "region"); },
    resource: function (f) { return fs(f, "res"); },
    items: function (f) { return f[F.items]; },
    message: function (f) { return fs(f, "msg").toLowerCase(); }
  };

  function fillSelect(sel, values, label) {
    values.forEach(function (v) {
      var o = el("option", null, label(v));
      o.value = String(v);
      sel.appendChild(o);
    });
  }
  function distinct(k) {
    var seen = {}, out = [];
    for (var i = 0; i < ALL.length; i++) {
      var v = ALL[i][F[k]];
      if (!seen[v]) { seen[v] = true; out.push(v); }
    }
    return out;
  }
  function byText(a, b) { return S[a] < S[b] ? -1 : S[a] > S[b] ? 1 : 0; }

  var sevs = distinct("sev").sort(function (a, b) { return rank(S[b]) - rank(S[a]) || byText(a, b); });
  fillSelect($("f-sev"), sevs, function (v) { return S[v] || "(none)"; });
  fillSelect($("f-rule"), distinct("rule").sort(byText), function (v) {
    var r = RULES[S[v]];
    return r && r[0] ? S[v] + " — " + r[0] : S[v];
  });
  var accName = {};
  ALL.forEach(function (f) { if (S[f[F.accName]]) { accName[f[F.acc]] = S[f[F.accName]]; } });
  fillSelect($("f-account"), distinct("acc").sort(byText), function (v) {
    return accName[v] ? accName[v] + " (" + S[v] + ")" : (S[v] || "(none)");
  });
  fillSelect($("f-region"), distinct("region").sort(byText), function (v) { return S[v] || "(global)"; });

  var fpager = new Pager($("f-pager"), renderFindings, [100, 50, 500, 1000]);

  function applyFilters() {
    var q = fstate.q.toLowerCase(), out = [];
    for (var i = 0; i < ALL.length; i++) {
      var f = ALL[i];
      if (fstate.sev >= 0 && f[F.sev] !== fstate.sev) { continue; }
      if (fstate.rule >= 0 && f[F.rule] !== fstate.rule) { continue; }
      if (fstate.acc >= 0 && f[F.acc] !== fstate.acc) { continue; }
      if (fstate.region >= 0 && f[F.region] !== fstate.region) { continue; }
      if (fstate.status && !STATUS[fstate.status](f)) { continue; }
      if (q && haystack(i).indexOf(q) < 0) { continue; }
      out.push(i);
    }
    if (fstate.sortKey) {
      var get = sortValue[fstate.sortKey], dir = fstate.sortDir;
      out.sort(function (a, b) {
        var x = get(ALL[a]), y = get(ALL[b]);
        return (x < y ? -1 : x > y ? 1 : 0) * dir || a - b;
      });
    }
    fstate.view = out;
    fpager.total = out.length;
    fpager.page = 0;
    $("f-count").textContent = out.length === ALL.length ? "(" + ALL.length + ")" : "(" + out.length + " of " + ALL.length + ")";
    renderFindings();
  }

  function kvTable(rows) {
    var t = el("table"), any = false;
    rows.forEach(function (r) {
      var v = r[1];
      if (v === undefined || v === null || v === "" || v === false) { return; }
      if (typeof v === "object") { v = JSON.stringify(v); }
      var tr = el("tr");
      tr.appendChild(el("th", null, r[0]));
      tr.appendChild(el("td", null, v));
      t.appendChild(tr);
      any = true;
    });
    return any ? t : null;
  }
  function gridTable(head, rows) {
    var t = el("table"), tr = el("tr");
    head.forEach(function (h) { tr.appendChild(el("th", null, h)); });
    t.appendChild(tr);
    rows.forEach(function (r) {
      var tr2 = el("tr");
      r.forEach(function (c) { tr2.appendChild(el("td", null, c === undefined || c === null ? "" : c)); });
      t.appendChild(tr2);
    });
    return t;
  }
  function section(box, title, node) {
    if (!node) { return; }
    box.appendChild(el("h4", null, title));
    box.appendChild(node);
  }
  function stmtRows(list) {
    return (list || []).map(function (s) {
      return [s.layer, s.level === undefined ? "" : String(s.level), s.policy, s.sid || "", "#" + s.index, s.effect, s.conditional ? "yes" : ""];
    });
  }
  var STMT_HEAD = ["Layer", "Level", "Policy", "Sid", "Statement", "Effect", "Conditional"];

  function decisionSection(box, dec, title) {
    section(box, title, kvTable([
      ["Decision", dec.decision], ["Deciding layer", dec.decidingLayer],
      ["Level", dec.level ? String(dec.level) : ""], ["Reason", dec.reason],
      ["Best case", dec.outcomes ? dec.outcomes.bestCase : ""], ["Worst case", dec.outcomes ? dec.outcomes.worstCase : ""]
    ]));
    if (dec.statements && dec.statements.length) {
      section(box, "Statements", gridTable(STMT_HEAD, stmtRows(dec.statements)));
    }
    if (dec.unknownKeys && dec.unknownKeys.length) {
      var rows = [];
      dec.unknownKeys.forEach(function (k) {
        stmtRows(k.statements).forEach(function (r) { rows.push([k.key].concat(r)); });
        if (!k.statements || !k.statements.length) { rows.push([k.key, "", "", "", "", "", "", ""]); }
      });
      section(box, "Unknown condition keys (indeterminate)", gridTable(["Key"].concat(STMT_HEAD), rows));
    }
  }
  function needOf(i) {
    var nr = N[i];
    return { feature: S[nr[0]], action: S[nr[1]], resource: S[nr[2]], container: S[nr[3]], fieldPath: S[nr[4]],
      servedBy: S[nr[5]], optional: nr[6] === 1, note: S[nr[7]] };
  }
  function orgNode(n) {
    if (!n) { return ""; }
    return (n.name ? n.name + " " : "") + "(" + n.id + (n.type ? ", " + n.type : "") + ")";
  }
  // The fix below its summary (see htmlData): steps, target, where the
  // suggested policy goes.
  function fixOf(f) {
    var x = f[F.fix];
    if (!x || x === -1) { return {}; }
    var fix = { steps: x[0].map(function (i) { return S[i]; }), suggestedPolicyLayer: S[x[2]], suggestedPolicyTarget: S[x[3]], legacy: x[4] === 1 };
    var t = x[1];
    if (t && t !== -1) {
      fix.target = { type: S[t[0]], arn: S[t[1]], id: S[t[2]], name: S[t[3]], role: S[t[4]], statement: S[t[5]], attachedTo: obj(t[6]) };
    }
    return fix;
  }
  function fixSection(box, f) {
    var fix = fixOf(f), sum = fs(f, "fixSum"), layer = fs(f, "fixLayer"), sugg = obj(f[F.sugg]);
    if (!sum && !sugg && !(fix.steps && fix.steps.length) && !fix.target) { return; }
    var wrap = el("div", "fix"), head = el("p");
    if (layer) { head.appendChild(el("span", "badge layer", "change: " + layer)); head.appendChild(document.createTextNode(" ")); }
    head.appendChild(el("strong", null, sum));
    wrap.appendChild(head);
    if (fix.steps && fix.steps.length) {
      var ol = el("ol");
      fix.steps.forEach(function (st) { ol.appendChild(el("li", null, st)); });
      wrap.appendChild(ol);
    }
    var t = fix.target;
    if (t) {
      wrap.appendChild(el("h5", null, "What to change"));
      var kv = kvTable([["Type", t.type], ["Name", t.name], ["ARN", t.arn], ["ID", t.id], ["Role", t.role],
        ["Statement", t.statement], ["Attached to", orgNode(t.attachedTo)]]);
      if (kv) { wrap.appendChild(kv); }
    }
    if (sugg) {
      // The indented policy text, exact (hidden characters as \u escapes).
      var text = String(sugg);
      var where = fix.suggestedPolicyTarget || "";
      if (fix.suggestedPolicyLayer) { where += (where ? " — " : "") + "layer " + fix.suggestedPolicyLayer; }
      wrap.appendChild(el("h5", null, fix.legacy ?
        "Suggested policy (from a version 1 findings.json: not proved against the deciding layer)" : "Suggested policy"));
      if (where) { wrap.appendChild(el("p", null, "Goes to: " + where)); }
      var bar = el("div");
      bar.appendChild(copyButton(text));
      wrap.appendChild(bar);
      wrap.appendChild(el("pre", "policy", text));
    }
    section(box, "Fix", wrap);
  }

  function evidence(f) {
    var box = el("div", "ev");
    var rule = RULES[fs(f, "rule")];
    var members = obj(f[F.members]) || [];
    var replaces = members.length > 1 || (members.length === 1 && members[0] !== fs(f, "id")) ? members.join(", ") : "";
    section(box, "Finding", kvTable([
      ["Finding ID", fs(f, "id")], ["Rule", fs(f, "rule") + (rule && rule[0] ? " — " + rule[0] : "")],
      ["Title", fs(f, "title")], ["Account", (fs(f, "accName") ? fs(f, "accName") + " " : "") + fs(f, "acc")],
      ["Region", fs(f, "region")], ["Resource type", fs(f, "rtype")], ["Resource", fs(f, "res")],
      ["Task definition", fs(f, "td")], ["Container", fs(f, "cont")], ["Execution role", fs(f, "role")],
      ["Message", fs(f, "msg")], ["Impact", fs(f, "impact")], ["Since the baseline", fs(f, "change")],
      ["Version 1 finding IDs it covers", replaces]
    ]));
    var sup = obj(f[F.sup]), state = fs(f, "state");
    if (sup) {
      section(box, state === "expired" ? "Risk acceptance (expired: the finding counts again)" : "Accepted risk", kvTable([
        ["Status", state === "expired" ? "accepted until " + sup.expires + ", which has passed" :
          "accepted until " + sup.expires + (sup.expiresSoon ? " (expires soon)" : "")],
        ["Owner", sup.owner], ["Justification", sup.justification], ["Suppression", sup.source]
      ]));
    }
    fixSection(box, f);
    var aff = f[F.aff] || [];
    if (aff.length) {
      section(box, "Affected resources (" + aff.length + ")", gridTable(["Type", "Name", "ARN"],
        aff.map(function (a) { return [S[a[0]], S[a[2]], S[a[1]]]; })));
    }
    var needs = f[F.needs] || [];
    if (needs.length) {
      var decs = [], count = {};
      section(box, "Needs (" + needs.length + ")", gridTable(
        ["Severity", "Feature", "Action", "Resource", "Container", "Field path", "Decision", "Deciding layer", "Note"],
        needs.map(function (x) {
          var n = needOf(x[0]), d = obj(x[2]);
          if (x[2] >= 0) {
            if (!count[x[2]]) { decs.push(x[2]); count[x[2]] = 0; }
            count[x[2]]++;
          }
          return [S[x[1]], n.feature, n.action, n.resource, n.container, n.fieldPath, d ? d.decision : "", d ? d.decidingLayer || "" : "",
            n.note + (n.optional ? (n.note ? "; " : "") + "optional" : "")];
        })));
      decs.forEach(function (d) {
        decisionSection(box, O[d], decs.length === 1 && needs.length > 1 ? "Decision (the same for the " + needs.length + " needs)" :
          "Decision" + (needs.length > 1 ? " for " + count[d] + " need" + (count[d] === 1 ? "" : "s") : ""));
      });
    } else if (f[F.need] >= 0) {
      var need = needOf(f[F.need]);
      section(box, "Need (why the task needs it)", kvTable([
        ["Feature", need.feature], ["Action", need.action], ["Resource", need.resource], ["Container", need.container],
        ["Field path", need.fieldPath], ["Served by", need.servedBy], ["Optional", need.optional ? "yes" : ""], ["Note", need.note]
      ]));
    }
    var dec = obj(f[F.dec]);
    if (dec) { decisionSection(box, dec, "Decision (which policy layer decided)"); }
    var unk = obj(f[F.unk]);
    if (unk) {
      section(box, "What is not known", gridTable(["Kind", "Subject", "What is not known", "How to settle it"],
        unk.map(function (u) { return [u.kind, u.subject, u.description, u.settle]; })));
    }
    var cons = obj(f[F.cons]);
    if (cons) {
      section(box, "Unmet agent constraints (" + cons.length + ")", gridTable(
        ["Rule", "Attribute or feature", "Minimum agent", "Field path", "Task definitions", "Source", "Severity"],
        cons.map(function (c) {
          return [c.ruleId, c.attribute ? c.attribute + (c.value ? " = " + c.value : "") : c.feature || "", c.minimum || "",
            c.fieldPath || "", (c.taskDefinitions || []).join(", "), c.source, c.severity];
        })));
    }
    var feat = obj(f[F.feat]);
    if (feat) {
      section(box, "Features Fargate cannot serve (" + feat.length + ")", gridTable(
        ["Feature", "Field path", "OS", "Platform version", "Minimum", "Source", "Severity"],
        feat.map(function (g) {
          return [g.feature, g.fieldPath, g.os, g.unsupported ? "not supported" : g.platformVersion || "", g.minimum || "", g.source, g.severity];
        })));
    }
    var vals = obj(f[F.vals]);
    if (vals) {
      section(box, "Values that look like credentials (" + vals.length + "; the values are never recorded)", gridTable(
        ["Container", "Kind", "Name", "Looks like", "Why", "Field path", "Severity"],
        vals.map(function (x) { return [x.container, x.kind, x.name, x.valueClass || "", x.why, x.fieldPath, x.severity]; })));
    }
    var probs = obj(f[F.probs]);
    if (probs) {
      section(box, "Policy problems (" + probs.length + ")", gridTable(["Kind", "Detail", "Severity"],
        probs.map(function (x) { return [x.kind, x.detail, x.severity]; })));
    }
    var exc = obj(f[F.exc]);
    if (exc && exc.length) {
      section(box, "Excess grants (" + exc.length + ", beyond the needs)", gridTable(["Policy", "Statement", "Why excess", "Action", "Resource", "Reason", "Severity"],
        exc.map(function (x) { return [x.policy, x.statement, x.kind || "", x.action, x.resource, x.reason, x.severity]; })));
    }
    var facts = obj(f[F.facts]);
    if (facts) {
      section(box, "Facts", kvTable(Object.keys(facts).sort().map(function (k) { return [k, facts[k]]; })));
    }
    // The remediation is the fix as text: the data has it only for a
    // finding without a fix summary.
    if (fs(f, "rem")) { section(box, "Remediation", el("p", null, fs(f, "rem"))); }
    return box;
  }

  function renderFindings() {
    var body = $("f-body");
    clear(body);
    var r = fpager.slice();
    for (var n = r[0]; n < r[1]; n++) {
      (function (i) {
        var f = ALL[i], tr = el("tr", "frow");
        var x = el("td"), b = el("button", "x", fstate.open[i] ? "▾" : "▸");
        b.type = "button";
        b.setAttribute("aria-label", "Show evidence");
        b.setAttribute("aria-expanded", fstate.open[i] ? "true" : "false");
        x.appendChild(b);
        tr.appendChild(x);
        var sv = el("td"); sv.appendChild(badge(fs(f, "sev")));
        var flags = el("div", "flags"), state = fs(f, "state");
        if (isNew(f)) { flags.appendChild(el("span", "badge new", "new")); }
        if (state === "accepted" || state === "expiring") { flags.appendChild(el("span", "badge accepted", "accepted")); }
        if (state === "expiring") { flags.appendChild(el("span", "badge expiring", "expires soon")); }
        if (state === "expired") { flags.appendChild(el("span", "badge expired", "acceptance expired")); }
        if (flags.firstChild) { sv.appendChild(flags); }
        tr.appendChild(sv);
        var rc = el("td"), code = el("code", null, fs(f, "rule"));
        rc.title = fs(f, "title");
        rc.appendChild(code);
        tr.appendChild(rc);
        var ac = el("td");
        if (fs(f, "accName")) { ac.appendChild(el("div", null, fs(f, "accName"))); }
        ac.appendChild(el("code", "muted", fs(f, "acc")));
        tr.appendChild(ac);
        tr.appendChild(el("td", null, fs(f, "region") || "global"));
        var rs = el("td", "res");
        rs.appendChild(el("div", null, fs(f, "res")));
        rs.appendChild(el("div", "muted", fs(f, "rtype") + (fs(f, "cont") ? " · container " + fs(f, "cont") : "")));
        tr.appendChild(rs);
        tr.appendChild(el("td", "impact", fs(f, "impact")));
        tr.appendChild(el("td", "msg", fs(f, "msg")));
        body.appendChild(tr);
        var detail = null;
        function show() {
          detail = el("tr", "detail");
          var td = el("td");
          td.colSpan = 8;
          td.appendChild(evidence(f));
          detail.appendChild(td);
          tr.parentNode.insertBefore(detail, tr.nextSibling);
        }
        if (fstate.open[i]) { show(); }
        b.addEventListener("click", function () {
          if (detail) {
            detail.parentNode.removeChild(detail);
            detail = null;
            delete fstate.open[i];
          } else {
            show();
            fstate.open[i] = true;
          }
          b.textContent = detail ? "▾" : "▸";
          b.setAttribute("aria-expanded", detail ? "true" : "false");
        });
      })(fstate.view[n]);
    }
    fpager.render();
  }

  function selectFilter(id, key) {
    $(id).addEventListener("change", function (e) {
      fstate[key] = e.target.value === "" ? -1 : parseInt(e.target.value, 10);
      applyFilters();
    });
  }
  selectFilter("f-sev", "sev");
  selectFilter("f-rule", "rule");
  selectFilter("f-account", "acc");
  selectFilter("f-region", "region");
  $("f-status").addEventListener("change", function (e) { fstate.status = e.target.value; applyFilters(); });
  if ($("show-accepted")) {
    $("show-accepted").addEventListener("click", function () {
      $("f-status").value = "accepted";
      fstate.status = "accepted";
      applyFilters();
      $("findings").scrollIntoView();
    });
  }
  var searchTimer = null;
  function flushSearch() {
    if (searchTimer) { clearTimeout(searchTimer); searchTimer = null; }
    fstate.q = $("f-search").value;
    applyFilters();
  }
  $("f-search").addEventListener("input", function () {
    if (searchTimer) { clearTimeout(searchTimer); }
    searchTimer = setTimeout(flushSearch, ALL.length > 20000 ? 300 : 120);
  });
  $("f-reset").addEventListener("click", function () {
    ["f-sev", "f-rule", "f-account", "f-region", "f-status"].forEach(function (id) { $(id).value = ""; });
    $("f-search").value = "";
    fstate.sev = fstate.rule = fstate.acc = fstate.region = -1;
    fstate.status = "";
    fstate.q = "";
    fstate.sortKey = "";
    fstate.sortDir = 0;
    fstate.open = {};
    markSort();
    applyFilters();
  });
  var ths = document.querySelectorAll("#f-table th.sortable");
  function markSort() {
    for (var i = 0; i < ths.length; i++) {
      var k = ths[i].getAttribute("data-key");
      ths[i].classList.remove("sort-asc", "sort-desc");
      ths[i].setAttribute("aria-sort", "none");
      if (k === fstate.sortKey) {
        ths[i].classList.add(fstate.sortDir > 0 ? "sort-asc" : "sort-desc");
        ths[i].setAttribute("aria-sort", fstate.sortDir > 0 ? "ascending" : "descending");
      }
    }
  }
  Array.prototype.forEach.call(ths, function (th) {
    th.addEventListener("click", function () {
      var k = th.getAttribute("data-key");
      if (fstate.sortKey === k) {
        fstate.sortDir = -fstate.sortDir;
      } else {
        fstate.sortKey = k;
        fstate.sortDir = k === "sev" ? -1 : 1;
      }
      markSort();
      applyFilters();
    });
  });

  // ---- roles -------------------------------------------------------------
  var rstate = { q: "", view: [] };
  var rpager = new Pager($("r-pager"), renderRoles, [20, 50, 200]);
  function applyRoles() {
    var q = rstate.q.toLowerCase(), out = [];
    for (var i = 0; i < ROLES.length; i++) {
      if (q && (S[ROLES[i][0]] + " " + S[ROLES[i][1]]).toLowerCase().indexOf(q) < 0) { continue; }
      out.push(i);
    }
    rstate.view = out;
    rpager.total = out.length;
    rpager.page = 0;
    renderRoles();
  }
  function renderRoles() {
    var list = $("r-list");
    clear(list);
    var r = rpager.slice();
    for (var n = r[0]; n < r[1]; n++) {
      var role = ROLES[rstate.view[n]];
      var box = el("div", "role");
      box.appendChild(el("h3", "mono", S[role[0]]));
      var bar = el("div", "bar");
      bar.appendChild(el("span", null, "Account " + S[role[1]]));
      bar.appendChild(el("span", role[2] ? "" : "badge sev-high", role[2] ? "exists" : "does not exist"));
      bar.appendChild(el("span", null, role[4] + " need" + (role[4] === 1 ? "" : "s")));
      bar.appendChild(el("span", null, role[6] + " finding" + (role[6] === 1 ? "" : "s")));
      box.appendChild(bar);
      if (role[3].length) {
        var d = el("details"), ul = el("ul");
        d.appendChild(el("summary", null, "Used by " + role[3].length + " task definition" + (role[3].length === 1 ? "" : "s")));
        role[3].forEach(function (u) { ul.appendChild(el("li", "mono", S[u])); });
        d.appendChild(ul);
        box.appendChild(d);
      }
      var policy = S[role[5]];
      if (policy) {
        var wrap = el("div");
        wrap.appendChild(el("strong", null, "Least-privilege policy "));
        wrap.appendChild(copyButton(policy));
        box.appendChild(wrap);
        box.appendChild(el("pre", "policy", policy));
      } else {
        box.appendChild(el("p", "muted", "No least-privilege policy (no needs)."));
      }
      list.appendChild(box);
    }
    rpager.render();
  }
  $("r-search").addEventListener("input", function (e) { rstate.q = e.target.value; applyRoles(); });

  // ---- task definitions --------------------------------------------------
  var tstate = { q: "", view: [] };
  var tpager = new Pager($("t-pager"), renderTDs, [100, 500]);
  function applyTDs() {
    var q = tstate.q.toLowerCase(), out = [];
    for (var i = 0; i < TDS.length; i++) {
      var t = TDS[i];
      if (q && [S[t[0]], S[t[1]], S[t[2]], S[t[6]], S[t[8]]].join(" ").toLowerCase().indexOf(q) < 0) { continue; }
      out.push(i);
    }
    tstate.view = out;
    tpager.total = out.length;
    tpager.page = 0;
    renderTDs();
  }
  function renderTDs() {
    var body = $("t-body");
    clear(body);
    var r = tpager.slice();
    for (var n = r[0]; n < r[1]; n++) {
      var t = TDS[tstate.view[n]], tr = el("tr");
      var c = el("td");
      c.appendChild(el("div", null, S[t[3]] + ":" + t[4]));
      c.appendChild(el("div", "muted mono", S[t[0]]));
      c.className = "wrap";
      tr.appendChild(c);
      tr.appendChild(el("td", "mono", S[t[1]]));
      tr.appendChild(el("td", null, S[t[2]]));
      tr.appendChild(el("td", null, t[5].map(function (x) { return S[x]; }).join(", ")));
      tr.appendChild(el("td", "wrap mono", S[t[6]] || "—"));
      tr.appendChild(el("td", "num", t[7]));
      tr.appendChild(el("td", "wrap", S[t[8]]));
      tr.appendChild(el("td", "num", t[10]));
      tr.appendChild(el("td", "num", t[9]));
      body.appendChild(tr);
    }
    tpager.render();
  }
  $("t-search").addEventListener("input", function (e) { tstate.q = e.target.value; applyTDs(); });

  applyFilters();
  applyRoles();
  applyTDs();
  var initMs = Date.now() - started;

  // ---- self-test (report.html?selftest=1 or #selftest) ----------------------
  // Exercises the page as a person would and writes what it saw into
  // <pre id="selftest">, for the automated browser test.
  function selftest() {
    var t0 = Date.now();
    var out = { total: ALL.length, roles: ROLES.length, taskDefs: TDS.length, initMs: initMs };
    function rows() { return document.querySelectorAll("#f-body tr.frow"); }
    out.firstPageRows = rows().length;
    out.pages = fpager.pages();
    var counts = {};
    ALL.forEach(function (f) { var s = fs(f, "sev"); counts[s] = (counts[s] || 0) + 1; });
    out.countsInData = counts;
    out.filtered = {};
    SEV_ORDER.forEach(function (sev) {
      var sel = $("f-sev"), found = false;
      for (var i = 0; i < sel.options.length; i++) {
        if (sel.options[i].textContent === sev) { sel.value = sel.options[i].value; found = true; }
      }
      if (!found) { out.filtered[sev] = { shown: 0, rows: 0, allMatch: true }; return; }
      sel.dispatchEvent(new Event("change"));
      var rs = rows(), all = true;
      for (var j = 0; j < rs.length; j++) {
        if (rs[j].querySelector(".badge").textContent !== sev) { all = false; }
      }
      out.filtered[sev] = { shown: fstate.view.length, rows: rs.length, allMatch: all };
    });
    $("f-reset").click();
    out.afterReset = fstate.view.length;
    if (ALL.length) {
      var last = ALL[ALL.length - 1];
      $("f-search").value = fs(last, "id");
      $("f-search").dispatchEvent(new Event("input"));
      flushSearch();
      out.searchById = fstate.view.length;
      $("f-reset").click();
      // sort by resource, ascending
      document.querySelector("#f-table th[data-key=resource]").click();
      var first = rows()[0].querySelector("td.res div").textContent, min = null;
      ALL.forEach(function (f) { var r = fs(f, "res"); if (min === null || r < min) { min = r; } });
      out.sortedFirstIsMin = first === min;
      $("f-reset").click();
      rows()[0].querySelector("button.x").click();
      out.evidenceOpened = document.querySelectorAll("#f-body tr.detail .ev").length;
      $("f-reset").click();
      // Every row of the first page opened: the evidence sections seen,
      // the copy buttons of suggested policies.
      var rs = rows();
      for (var r = 0; r < rs.length; r++) { rs[r].querySelector("button.x").click(); }
      var heads = {}, hs = document.querySelectorAll("#f-body tr.detail .ev h4");
      for (var h = 0; h < hs.length; h++) { heads[hs[h].textContent.replace(/ \(.*$/, "")] = true; }
      out.evidencePanels = document.querySelectorAll("#f-body tr.detail .ev").length;
      out.evidenceHeadings = Object.keys(heads).sort();
      out.fixCopyButtons = document.querySelectorAll("#f-body tr.detail .fix button.copy").length;
      out.newBadges = document.querySelectorAll("#f-body tr.frow .badge.new").length;
      $("f-reset").click();
      if (fpager.pages() > 1) {
        fpager.nextButton.click();
        out.secondPageRows = rows().length;
        out.secondPage = fpager.page + 1;
      }
      $("f-reset").click();
    }
    // Triage: new findings first, the status filter, the accepted risks
    // and what changed.
    var seenOld = false;
    out.newFirst = true;
    ALL.forEach(function (f) { if (!isNew(f)) { seenOld = true; } else if (seenOld) { out.newFirst = false; } });
    out.status = {};
    ["new", "open", "accepted", "expired"].forEach(function (k) {
      $("f-status").value = k;
      $("f-status").dispatchEvent(new Event("change"));
      out.status[k] = fstate.view.length;
    });
    $("f-reset").click();
    if ($("show-accepted")) {
      $("show-accepted").click();
      out.showAccepted = fstate.view.length;
      $("f-reset").click();
    }
    out.acceptedEntries = document.querySelectorAll("#accepted-table tbody tr").length;
    out.staleEntries = document.querySelectorAll("#accepted-table tbody tr.stale").length;
    out.fixedRows = document.querySelectorAll("#fixed-table tbody tr").length;
    out.unknownRows = document.querySelectorAll("#unknown-table tbody tr").length;
    out.roleCards = document.querySelectorAll("#r-list .role").length;
    out.copyButtons = document.querySelectorAll("#r-list button.copy").length;
    out.taskDefRows = document.querySelectorAll("#t-body tr").length;
    out.selftestMs = Date.now() - t0;
    // The data block is parsed already; dropping its text keeps the dumped
    // DOM small for the test harness.
    $("audit-data").textContent = "";
    out.errors = errors;
    out.done = true;
    $("selftest").textContent = JSON.stringify(out);
  }
  if (/[?&#]selftest(=1)?\b/.test(location.search + location.hash)) {
    try { selftest(); } catch (e) {
      errors.push("selftest: " + (e && e.message ? e.message : e));
      $("selftest").textContent = JSON.stringify({ done: false, errors: errors });
    }
  }
})();
