-- Notes shown on the app's page; the seed adds the first one.
CREATE TABLE notes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug       text NOT NULL UNIQUE,
    body       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
