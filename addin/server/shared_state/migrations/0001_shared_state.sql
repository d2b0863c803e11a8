-- The shared state of several `funnelplan serve` hosts (schema funnelplan_state).

-- API keys as `funnelplan keys` stores them: the derived signing key, never the secret.
CREATE TABLE funnelplan_state.api_keys (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    created     text NOT NULL,
    revoked     text,
    signing_key text NOT NULL,
    spreadsheet text
);

-- Signatures seen within the window (Unix seconds of expiry), pruned by the hosts.
CREATE TABLE funnelplan_state.replay (
    signature text PRIMARY KEY,
    expires   double precision NOT NULL
);
CREATE INDEX replay_expires ON funnelplan_state.replay (expires);

-- One button at a time per Google Sheet: a lease its holder renews while the button runs.
CREATE TABLE funnelplan_state.sheet_locks (
    spreadsheet text PRIMARY KEY,
    holder      text NOT NULL,
    expires     timestamptz NOT NULL
);

-- The Google Sheets request budget of one credential (account) and kind (read, write).
CREATE TABLE funnelplan_state.sheets_budget (
    account text NOT NULL,
    kind    text NOT NULL,
    tokens  double precision NOT NULL,
    updated timestamptz NOT NULL,
    PRIMARY KEY (account, kind)
);
