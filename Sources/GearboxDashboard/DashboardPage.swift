/// The dashboard's page at `/`: only structure, filled in by `DashboardScript` from `/api/overview`. It embeds
/// no server data, so nothing in it needs escaping.
enum DashboardPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="color-scheme" content="light dark">
        <title>Gearbox job server</title>
        <link rel="stylesheet" href="/dashboard.css">
        <script src="/dashboard.js" defer></script>
        </head>
        <body>
        <header class="top">
          <div class="brand">
            <h1>Gearbox</h1>
            <span id="version" class="muted"></span>
          </div>
          <dl class="facts">
            <div><dt>Uptime</dt><dd id="uptime">–</dd></div>
            <div><dt>Store</dt><dd id="store">–</dd></div>
            <div><dt>Unwritten rows</dt><dd id="unwritten">–</dd></div>
            <div><dt>Connections</dt><dd id="connections">–</dd></div>
          </dl>
          <p id="status" class="status" role="status">connecting…</p>
        </header>
        <main>
          <p id="store-failure" class="alert" role="alert" hidden></p>
          <p id="notice" class="notice" role="status" hidden></p>

          <section class="card" aria-labelledby="functions-title">
            <div class="card-head">
              <h2 id="functions-title">Functions</h2>
              <span id="functions-count" class="muted"></span>
              <div class="controls">
                <input id="filter" type="search" placeholder="Filter by name" autocomplete="off" spellcheck="false"
                  aria-label="Filter functions by name">
                <label>Rows
                  <select id="limit">
                    <option>50</option>
                    <option selected>200</option>
                    <option>1000</option>
                    <option>10000</option>
                  </select>
                </label>
              </div>
            </div>
            <div class="scroll tall">
              <table id="functions">
                <thead>
                  <tr>
                    <th rowspan="2" class="name">Function</th>
                    <th colspan="3" class="group">Queued</th>
                    <th rowspan="2">Running</th>
                    <th rowspan="2">Workers</th>
                    <th rowspan="2">Scheduled</th>
                    <th rowspan="2">Dead</th>
                    <th colspan="2" class="group">Per second</th>
                    <th colspan="2" class="group">Wait ms</th>
                    <th colspan="2" class="group">Run ms</th>
                  </tr>
                  <tr>
                    <th>High</th><th>Normal</th><th>Low</th>
                    <th>Done</th><th>Failed</th>
                    <th>p50</th><th>p99</th>
                    <th>p50</th><th>p99</th>
                  </tr>
                </thead>
                <tbody></tbody>
              </table>
            </div>
          </section>

          <section class="card" aria-labelledby="dead-title">
            <div class="card-head">
              <h2 id="dead-title">Dead letters</h2>
              <span id="dead-count" class="muted"></span>
            </div>
            <div class="scroll">
              <table id="dead">
                <thead>
                  <tr>
                    <th class="name">Handle</th><th class="name">Function</th><th class="name">Unique</th>
                    <th>Attempts</th><th class="name">Error</th><th>Last failed</th><th class="actions"></th>
                  </tr>
                </thead>
                <tbody></tbody>
              </table>
            </div>
          </section>

          <div class="columns">
            <section class="card" aria-labelledby="workers-title">
              <div class="card-head">
                <h2 id="workers-title">Workers</h2>
                <span id="workers-count" class="muted"></span>
              </div>
              <div class="scroll">
                <table id="workers">
                  <thead>
                    <tr>
                      <th>ID</th><th class="name">Address</th><th class="name">Client ID</th>
                      <th class="name">TLS name</th>
                      <th class="name">Functions</th><th>Running</th>
                    </tr>
                  </thead>
                  <tbody></tbody>
                </table>
              </div>
            </section>

            <section class="card" aria-labelledby="scheduled-title">
              <div class="card-head">
                <h2 id="scheduled-title">Scheduled</h2>
                <span id="scheduled-count" class="muted"></span>
              </div>
              <div class="scroll">
                <table id="scheduled">
                  <thead>
                    <tr>
                      <th class="name">Handle</th><th class="name">Function</th><th class="name">Unique</th>
                      <th>Due</th><th>Attempts</th>
                    </tr>
                  </thead>
                  <tbody></tbody>
                </table>
              </div>
            </section>
          </div>

          <section id="group" class="card" aria-labelledby="group-title" hidden>
            <div class="card-head">
              <h2 id="group-title">Store group</h2>
              <span id="group-count" class="muted"></span>
            </div>
            <div class="scroll">
              <table>
                <thead>
                  <tr><th class="name">Server</th><th>Lease left</th></tr>
                </thead>
                <tbody></tbody>
              </table>
            </div>
          </section>
        </main>
        </body>
        </html>
        """#
}
