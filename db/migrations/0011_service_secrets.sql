-- Secrets the instances of one service share, such as the key of the web pages' CSRF
-- tokens when DISPATCH112_SECRET_KEY is not set: made once by the first instance that
-- needs it, then read by every instance, so that a restart or a second instance keeps
-- every open page's token valid.
CREATE TABLE service_secrets (
    name text PRIMARY KEY,
    value text NOT NULL CHECK (value <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);
