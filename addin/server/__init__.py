"""The function server: every registry function and button action over signed HTTP.

`app.create_app(settings)` assembles the FastAPI app from the routers in `routes` (`health`,
`functions`, `actions`, `sheet_actions`), the error handlers of `errors`, the body limit of
`middleware` and the per-app `state.ServerState`; `models` holds the request and response
bodies. `keys` holds the API keys (stored as one-way derived signing keys, never the secret);
`signing` checks each request's HMAC signature, timestamp window and replay; `commands` has
`funnelplan serve` and `funnelplan keys`. Only `commands`, `keys`, `settings` and `signing` run
without the `server` extra (fastapi); `addin.cli` imports `commands` alone.
"""
