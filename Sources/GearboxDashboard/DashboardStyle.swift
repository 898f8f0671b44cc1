/// The dashboard's style at `/dashboard.css`: system fonts, light and dark colour schemes.
enum DashboardStyle {
    static let css = #"""
        :root {
          color-scheme: light dark;
          --page: #f4f5f7;
          --card: #ffffff;
          --text: #1c2230;
          --muted: #6a7282;
          --line: #e3e6eb;
          --head: #f8f9fb;
          --hover: #f1f4f9;
          --accent: #2458d6;
          --good: #17803d;
          --warn: #a35c00;
          --bad: #b42318;
          --bad-tint: #fdecea;
        }
        @media (prefers-color-scheme: dark) {
          :root {
            --page: #0e1014;
            --card: #171a21;
            --text: #e4e7ec;
            --muted: #9098a6;
            --line: #2a2f3a;
            --head: #1c2028;
            --hover: #1f2430;
            --accent: #7aa2ff;
            --good: #4ccf7f;
            --warn: #f0b445;
            --bad: #ff7b72;
            --bad-tint: #3a1513;
          }
        }
        * { box-sizing: border-box; }
        body {
          margin: 0;
          background: var(--page);
          color: var(--text);
          font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
        }
        h1, h2 { margin: 0; font-weight: 600; }
        h1 { font-size: 1.25rem; }
        h2 { font-size: 1rem; }
        .muted { color: var(--muted); }

        .top {
          display: flex;
          flex-wrap: wrap;
          align-items: center;
          gap: .75rem 2rem;
          padding: .75rem 1.5rem;
          background: var(--card);
          border-bottom: 1px solid var(--line);
        }
        .brand { display: flex; align-items: baseline; gap: .6rem; }
        .facts { display: flex; flex-wrap: wrap; gap: .5rem 1.75rem; margin: 0; }
        .facts div { display: flex; flex-direction: column; }
        .facts dt { color: var(--muted); font-size: .75rem; text-transform: uppercase; letter-spacing: .04em; }
        .facts dd { margin: 0; font-variant-numeric: tabular-nums; max-width: 28rem; overflow-wrap: anywhere; }
        .status { margin: 0 0 0 auto; color: var(--muted); display: flex; align-items: center; gap: .45rem; }
        .status::before {
          content: "";
          width: .55rem;
          height: .55rem;
          border-radius: 50%;
          background: var(--muted);
        }
        .status.live::before { background: var(--good); }
        .status.waiting::before { background: var(--warn); }
        .status.failing { color: var(--bad); }
        .status.failing::before { background: var(--bad); }

        main { padding: 1.25rem 1.5rem 2rem; display: grid; gap: 1.25rem; }
        .alert, .notice { margin: 0; padding: .6rem .9rem; border-radius: .5rem; }
        .alert { background: var(--bad-tint); color: var(--bad); border: 1px solid var(--bad); font-weight: 500; }
        .notice { background: var(--card); border: 1px solid var(--line); }
        .notice.failing { color: var(--bad); border-color: var(--bad); }

        .columns { display: grid; gap: 1.25rem; grid-template-columns: repeat(auto-fit, minmax(34rem, 1fr)); }
        .card {
          background: var(--card);
          border: 1px solid var(--line);
          border-radius: .6rem;
          overflow: hidden;
          min-width: 0;
        }
        .card-head {
          display: flex;
          flex-wrap: wrap;
          align-items: center;
          gap: .5rem 1rem;
          padding: .7rem 1rem;
          border-bottom: 1px solid var(--line);
        }
        .controls { margin-left: auto; display: flex; align-items: center; gap: .75rem; color: var(--muted); }
        input, select, button { font: inherit; color: var(--text); }
        input[type="search"], select {
          background: var(--page);
          border: 1px solid var(--line);
          border-radius: .4rem;
          padding: .3rem .55rem;
        }
        input[type="search"] { width: 16rem; }
        input:focus-visible, select:focus-visible, button:focus-visible {
          outline: 2px solid var(--accent);
          outline-offset: 1px;
        }

        .scroll { overflow: auto; max-height: 26rem; }
        .scroll.tall { max-height: 60vh; }
        table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
        th, td { padding: .38rem .7rem; text-align: right; white-space: nowrap; }
        th {
          position: sticky;
          top: 0;
          background: var(--head);
          color: var(--muted);
          font-weight: 500;
          font-size: .78rem;
          border-bottom: 1px solid var(--line);
        }
        thead tr + tr th { top: 1.9rem; }
        th.group { text-align: center; border-bottom: 1px solid var(--line); }
        th.name, td.name { text-align: left; }
        td { border-bottom: 1px solid var(--line); }
        tbody tr:last-child td { border-bottom: 0; }
        tbody tr:hover td { background: var(--hover); }
        td.name { max-width: 22rem; overflow: hidden; text-overflow: ellipsis; }
        td.wide { max-width: 34rem; white-space: normal; overflow-wrap: anywhere; }
        td.zero { color: var(--muted); }
        td.bad { color: var(--bad); }
        td.empty { text-align: center; color: var(--muted); padding: 1.25rem; }
        td.actions { white-space: nowrap; }
        a { color: var(--accent); text-decoration: none; }
        a:hover { text-decoration: underline; }
        td.this-server::after {
          content: "this server";
          margin-left: .4rem;
          padding: 0 .4rem;
          border-radius: 1rem;
          font-size: .72rem;
          background: var(--hover);
          color: var(--muted);
        }

        button {
          background: var(--card);
          border: 1px solid var(--line);
          border-radius: .35rem;
          padding: .1rem .55rem;
          cursor: pointer;
          font-size: .8rem;
        }
        button + button { margin-left: .35rem; }
        button:hover:not(:disabled) { border-color: var(--accent); color: var(--accent); }
        button.danger:hover:not(:disabled) { border-color: var(--bad); color: var(--bad); }
        button:disabled { cursor: not-allowed; opacity: .5; }
        td .inline { margin-left: .5rem; }
        """#
}
