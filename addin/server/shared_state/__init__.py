"""The server's state, local or shared by several hosts: API keys, the replay cache, the
per-sheet button lock and (shared only) the Google Sheets request budget.

`open_state(settings)` gives a `StateBackends`: the local folder's (`local`: ``keys.json``,
``replay.sqlite``, lock files; the default) or PostgreSQL's (`postgres`, when
`Settings.state_url` is a ``postgresql://`` URL: several ``funnelplan serve`` hosts behind a
load balancer then refuse a replay seen by another, see a revocation on the next request, lock
a sheet for all, and draw Sheets requests from one budget). Each backend sits behind a small
protocol (`keys.KeyBackend`, `signing.ReplayBackend`, `protocols.SheetLocks`,
`sheets_sync.google_http.SharedBudget`), so `ServerState` holds either.
"""
