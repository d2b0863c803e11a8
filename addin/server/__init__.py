"""The function server: every registry function and button action over signed HTTP.

`app.create_app(settings)` builds the FastAPI app; `keys` holds the API keys (stored as
one-way derived signing keys, never the secret); `signing` checks each request's HMAC
signature, timestamp window and replay; `commands` has `funnelplan serve` and `funnelplan keys`.
"""
