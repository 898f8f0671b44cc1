/// The dashboard's script at `/dashboard.js`: polls `/api/overview` every 2 seconds and rebuilds the tables
/// with `textContent` and `createElement` only, so every name and error shows as text; retries and purges dead
/// letters with a POST that carries `X-Gearbox-Request: 1`.
enum DashboardScript {
    static let javaScript = #"""
        "use strict";
        (() => {
          const pollInterval = 2000;
          const deniedReason = "Only addresses that --admin-allow lets change state may retry or purge dead letters";
          const numbers = new Intl.NumberFormat("en-US");
          const byId = (id) => document.getElementById(id);
          const tbody = (id) => byId(id).querySelector("tbody");

          // Cumulative counters of the last poll, by function, to turn into rates.
          let previousCounts = new Map();
          let previousTime = 0;
          let pollTimer = 0;
          let pollSequence = 0;

          function element(tag, text, className) {
            const node = document.createElement(tag);
            if (text !== undefined && text !== null) node.textContent = String(text);
            if (className) node.className = className;
            return node;
          }

          // Intl's grouping is slow next to String(), and most cells hold numbers too small to need it.
          function countText(value) {
            return value < 1000 && value > -1000 ? String(value) : numbers.format(value);
          }

          // A cell as a table shows it: its text and class, and perhaps a tooltip, a link or action buttons.
          function textCell(text, className, title) {
            return { text: String(text), className: className || "", title: title || "", href: "", buttons: null };
          }

          function countCell(value) {
            return textCell(countText(value), value === 0 ? "zero" : "");
          }

          function nameCell(text, className) {
            return textCell(text, className ? "name " + className : "name", text);
          }

          function handleCell(handle) {
            const cell = textCell(handle, "name", "This job's status as JSON");
            cell.href = "/api/jobs/" + encodeURIComponent(handle);
            return cell;
          }

          function withButtons(cell, buttons) {
            cell.buttons = buttons;
            cell.buttonsKey = buttons.map((b) => [b.label, b.action, b.function, b.handle, b.allowed].join("\u0000"))
              .join("\u0001");
            return cell;
          }

          function button(label, action, fn, handle, allowed, className) {
            return { label, action, function: fn, handle, allowed, className };
          }

          function sameCell(a, b) {
            return a.text === b.text && a.className === b.className && a.title === b.title && a.href === b.href &&
              (a.buttons ? a.buttonsKey : "") === (b.buttons ? b.buttonsKey : "");
          }

          function writeCell(td, cell) {
            td.className = cell.className;
            td.title = cell.title;
            if (cell.href) {
              const link = element("a", cell.text);
              link.href = cell.href;
              td.replaceChildren(link);
            } else {
              td.textContent = cell.text;
            }
            for (const b of cell.buttons || []) {
              const node = element("button", b.label, b.className);
              node.type = "button";
              node.dataset.action = b.action;
              node.dataset.function = b.function;
              if (b.handle !== undefined) node.dataset.handle = b.handle;
              node.disabled = !b.allowed;
              if (!b.allowed) node.title = deniedReason;
              td.appendChild(node);
            }
          }

          // Brings a table's body to `items`, one row each, keyed by `keyOf`: a row already shown is kept, its
          // changed cells rewritten and it is moved only if its place changed. Rebuilding every row on every poll
          // would cost a thousand times more at 10,000 rows, lose a click that falls between two polls, and undo a
          // selection.
          function syncRows(body, items, keyOf, cellsOf, label, emptyText, columns) {
            if (!body.rowsByKey || body.querySelector("td.empty")) {
              body.rowsByKey = new Map();
              body.replaceChildren();
            }
            if (items.length === 0) {
              const row = element("tr");
              const td = row.appendChild(element("td", emptyText, "empty"));
              td.colSpan = columns;
              body.rowsByKey = new Map();
              body.replaceChildren(row);
              return;
            }
            const rows = new Map();
            let next = body.firstChild;
            for (const item of items) {
              const key = keyOf(item);
              let row = body.rowsByKey.get(key);
              if (!row) {
                row = element("tr");
                label(row, item);
                row.shown = [];
              }
              rows.set(key, row);
              const cells = cellsOf(item);
              for (let index = 0; index < cells.length; index++) {
                const before = row.shown[index];
                if (before && sameCell(before, cells[index])) continue;
                writeCell(row.cells[index] || row.appendChild(element("td")), cells[index]);
                row.shown[index] = cells[index];
              }
              if (row === next) {
                next = next.nextSibling;
              } else {
                body.insertBefore(row, next);
              }
            }
            while (next) {
              const stale = next;
              next = next.nextSibling;
              stale.remove();
            }
            body.rowsByKey = rows;
          }

          function rateText(rate) {
            if (rate === null) return "–";
            if (rate === 0) return "0";
            return rate < 10 ? rate.toFixed(1) : countText(Math.round(rate));
          }

          function millisecondsText(percentiles, key) {
            if (!percentiles) return "–";
            const value = percentiles[key];
            return value < 1 ? String(Number(value.toPrecision(2))) : countText(Math.round(value));
          }

          function durationText(seconds) {
            const s = Math.max(0, Math.round(seconds));
            if (s < 60) return s + "s";
            if (s < 3600) return Math.floor(s / 60) + "m " + (s % 60) + "s";
            if (s < 86400) return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
            return Math.floor(s / 86400) + "d " + Math.floor((s % 86400) / 3600) + "h";
          }

          function relativeText(when, now) {
            const seconds = when - now;
            if (Math.abs(seconds) < 1) return "now";
            return seconds > 0 ? "in " + durationText(seconds) : durationText(-seconds) + " ago";
          }

          function amountText(count, noun) {
            return countText(count) + " " + noun + (count === 1 ? "" : "s");
          }

          function shownText(shown, total, noun) {
            if (shown === total) return amountText(total, noun);
            return "showing " + countText(shown) + " of " + amountText(total, noun);
          }

          function setStatus(text, kind) {
            const status = byId("status");
            status.textContent = text;
            status.className = "status " + kind;
          }

          let noticeTimer = 0;
          function notify(text, failing) {
            const notice = byId("notice");
            notice.textContent = text;
            notice.className = failing ? "notice failing" : "notice";
            notice.hidden = false;
            clearTimeout(noticeTimer);
            noticeTimer = setTimeout(() => { notice.hidden = true; }, 6000);
          }

          function renderServer(server) {
            byId("version").textContent = "v" + server.version + " · " + server.handle_prefix;
            byId("uptime").textContent = durationText(server.now - server.started);
            byId("store").textContent = server.store;
            byId("unwritten").textContent = countText(server.store_unwritten);
            byId("connections").textContent = countText(server.connections);
            const failure = byId("store-failure");
            failure.hidden = !server.store_failure;
            failure.textContent = server.store_failure ? "Store failure: " + server.store_failure : "";
          }

          function renderFunctions(overview, seconds) {
            const allowed = overview.server.may_change_state;
            const counts = new Map();
            const filtered = byId("filter").value.trim() !== "";
            syncRows(
              tbody("functions"), overview.functions, (f) => f.name,
              (f) => {
                counts.set(f.name, { completed: f.completed, failed: f.failed });
                const before = previousCounts.get(f.name);
                const rate = (key) => before && seconds > 0 ? Math.max(0, f[key] - before[key]) / seconds : null;
                const failed = rate("failed");
                const retryAll = button("retry all", "retry", f.name, undefined, allowed, "inline");
                const dead = f.dead > 0 ? withButtons(textCell(countText(f.dead), "bad"), [retryAll]) : countCell(0);
                return [
                  nameCell(f.name),
                  countCell(f.queued[0] ?? 0), countCell(f.queued[1] ?? 0), countCell(f.queued[2] ?? 0),
                  countCell(f.running), countCell(f.workers), countCell(f.scheduled), dead,
                  textCell(rateText(rate("completed"))), textCell(rateText(failed), failed ? "bad" : ""),
                  textCell(millisecondsText(f.wait_ms, "p50")), textCell(millisecondsText(f.wait_ms, "p99")),
                  textCell(millisecondsText(f.run_ms, "p50")), textCell(millisecondsText(f.run_ms, "p99")),
                ];
              },
              (row, f) => { row.dataset.function = f.name; },
              filtered ? "No function matches the filter" : "No functions yet", 15);
            previousCounts = counts;
            byId("functions-count").textContent =
              shownText(overview.functions.length, overview.functions_total, "function");
          }

          function renderWorkers(overview) {
            syncRows(
              tbody("workers"), overview.workers, (w) => w.id,
              (w) => [
                textCell(w.id), nameCell(w.address), nameCell(w.client_id), nameCell(w.tls_name ?? "–"),
                nameCell(w.functions.join(", "), "wide"), countCell(w.running),
              ],
              (row, w) => { row.dataset.worker = String(w.id); },
              "No workers connected", 6);
            byId("workers-count").textContent = shownText(overview.workers.length, overview.workers_total, "worker");
          }

          function renderScheduled(overview) {
            const now = overview.server.now;
            syncRows(
              tbody("scheduled"), overview.scheduled, (job) => job.handle,
              (job) => [
                handleCell(job.handle), nameCell(job.function), nameCell(job.unique),
                textCell(relativeText(job.due, now), "", new Date(job.due * 1000).toLocaleString()),
                countCell(job.attempts),
              ],
              (row, job) => {
                row.dataset.handle = job.handle;
                row.dataset.function = job.function;
              },
              "No jobs waiting for their time", 5);
            byId("scheduled-count").textContent = shownText(overview.scheduled.length, overview.scheduled_total, "job");
          }

          function renderDead(overview) {
            const now = overview.server.now;
            const allowed = overview.server.may_change_state;
            syncRows(
              tbody("dead"), overview.dead, (letter) => letter.handle,
              (letter) => [
                handleCell(letter.handle), nameCell(letter.function), nameCell(letter.unique),
                countCell(letter.attempts),
                nameCell(letter.error, "wide"),
                textCell(relativeText(letter.last_failed, now), "",
                  "first failed " + new Date(letter.first_failed * 1000).toLocaleString()),
                withButtons(textCell("", "actions"), [
                  button("Retry", "retry", letter.function, letter.handle, allowed),
                  button("Purge", "purge", letter.function, letter.handle, allowed, "danger"),
                ]),
              ],
              (row, letter) => {
                row.dataset.handle = letter.handle;
                row.dataset.function = letter.function;
              },
              "No dead letters", 7);
            byId("dead-count").textContent = shownText(overview.dead.length, overview.dead_total, "job");
          }

          function renderGroup(overview) {
            const section = byId("group");
            section.hidden = !overview.group;
            if (section.hidden) return;
            syncRows(
              section.querySelector("tbody"), overview.group, (server) => server.name,
              (server) => {
                const left = server.lease_left_ms;
                const lease = left >= 0 ? durationText(left / 1000) : "expired " + durationText(-left / 1000) + " ago";
                return [
                  nameCell(server.name, server.this_server ? "this-server" : ""),
                  textCell(lease, left >= 0 ? "" : "bad"),
                ];
              },
              (row, server) => { row.dataset.server = server.name; },
              "No servers", 2);
            byId("group-count").textContent = amountText(overview.group.length, "server");
          }

          function render(overview) {
            const started = performance.now();
            const seconds = previousTime ? (started - previousTime) / 1000 : 0;
            previousTime = started;
            renderServer(overview.server);
            renderFunctions(overview, seconds);
            renderWorkers(overview);
            renderScheduled(overview);
            renderDead(overview);
            renderGroup(overview);
          }

          async function poll() {
            clearTimeout(pollTimer);
            const sequence = ++pollSequence;
            const query = new URLSearchParams({ limit: byId("limit").value });
            const filter = byId("filter").value.trim();
            if (filter) query.set("filter", filter);
            try {
              const response = await fetch("/api/overview?" + query, { cache: "no-store" });
              if (sequence !== pollSequence) return;
              if (response.status === 503) {
                setStatus("waiting for the job server", "waiting");
              } else if (!response.ok) {
                setStatus("the server answered " + response.status, "failing");
              } else {
                const overview = await response.json();
                if (sequence !== pollSequence) return;
                render(overview);
                setStatus("live · " + new Date().toLocaleTimeString(), "live");
              }
            } catch (error) {
              if (sequence !== pollSequence) return;
              setStatus("cannot reach the server", "failing");
            }
            if (!document.hidden) pollTimer = setTimeout(poll, pollInterval);
          }

          async function changeDeadLetters(button) {
            const action = button.dataset.action;
            const fn = button.dataset.function;
            const handle = button.dataset.handle;
            const what = handle ? "dead letter " + handle : "every dead letter of " + fn;
            if (action === "purge" && !window.confirm("Purge " + what + "? It cannot be undone.")) return;
            button.disabled = true;
            const form = new URLSearchParams({ function: fn });
            if (handle) form.set("handle", handle);
            try {
              const response = await fetch("/api/dead/" + action, {
                method: "POST",
                headers: { "X-Gearbox-Request": "1" },
                body: form,
              });
              const answer = await response.json().catch(() => ({}));
              if (!response.ok) throw new Error(answer.error || "the server answered " + response.status);
              notify((action === "retry" ? "Queued again: " : "Purged: ") + amountText(answer.count, "job"), false);
            } catch (error) {
              notify("Could not " + action + " " + what + ": " + error.message, true);
            }
            button.disabled = false;
            poll();
          }

          document.addEventListener("click", (event) => {
            const button = event.target.closest("button[data-action]");
            if (button && !button.disabled) changeDeadLetters(button);
          });

          // The filter and the row limit live in the address's fragment, so that a view can be bookmarked.
          function restoreView() {
            const view = new URLSearchParams(location.hash.slice(1));
            byId("filter").value = view.get("filter") ?? "";
            const limit = view.get("limit");
            if (limit && Array.from(byId("limit").options).some((option) => option.value === limit)) {
              byId("limit").value = limit;
            }
          }

          function keepView() {
            const view = new URLSearchParams();
            const filter = byId("filter").value.trim();
            if (filter) view.set("filter", filter);
            if (byId("limit").value !== "200") view.set("limit", byId("limit").value);
            const fragment = view.toString();
            history.replaceState(null, "", fragment ? "#" + fragment : location.pathname);
          }

          let filterTimer = 0;
          byId("filter").addEventListener("input", () => {
            clearTimeout(filterTimer);
            filterTimer = setTimeout(() => { keepView(); poll(); }, 250);
          });
          byId("limit").addEventListener("change", () => { keepView(); poll(); });
          document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });
          restoreView();
          poll();
        })();
        """#
}
