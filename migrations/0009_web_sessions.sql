-- Sessions of the web dashboard (issue 13, decision 0011): a person signs in with an API key and gets
-- a cookie. Only the SHA-256 of the cookie's random id is stored. A session hangs off the key it was
-- opened with, so revoking the key (or deleting the account) ends its sessions too.
CREATE TABLE web_sessions (
    id_hash     bytea PRIMARY KEY CHECK (length(id_hash) = 32),
    key_id      uuid NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    -- Every state-changing form of the session carries this token (double check against CSRF on top
    -- of SameSite=Strict). Not a credential on its own: it opens nothing without the cookie.
    csrf_token  text NOT NULL CHECK (length(csrf_token) >= 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);

CREATE INDEX web_sessions_expires_at ON web_sessions (expires_at);
CREATE INDEX web_sessions_key_id ON web_sessions (key_id);
