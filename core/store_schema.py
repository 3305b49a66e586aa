"""The run store's tables, in SQLite's words (core.store_postgres translates the types), and the scripts that
migrate an older store. A script is split into statements at ";\n"."""

WEIGHTS = """
CREATE TABLE weights (
    run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    updated REAL NOT NULL,
    data BLOB NOT NULL
);
"""
SCHEMA_V2 = (
    """
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    source TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '{}',
    pid INTEGER,
    host TEXT NOT NULL DEFAULT '',
    epochs REAL NOT NULL DEFAULT 0,
    stride INTEGER NOT NULL DEFAULT 1,
    tags TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE metrics (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    data TEXT NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, step)
);
"""
    + WEIGHTS
)

# Version 1 (no user_version; SQLite only, it predates PostgreSQL) had runs without pid/host/epochs/stride,
# metrics without seq, and the statuses "created" (every page load) and "ready" (paused, finished, crashed
# or raised alike).
MIGRATE_1_TO_2 = (
    """
ALTER TABLE runs ADD COLUMN pid INTEGER;
ALTER TABLE runs ADD COLUMN host TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN epochs REAL NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN stride INTEGER NOT NULL DEFAULT 1;
ALTER TABLE runs ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE metrics ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE metrics SET seq = r.n FROM (
    SELECT run_id, step, ROW_NUMBER() OVER (PARTITION BY run_id ORDER BY step) - 1 AS n FROM metrics
) AS r WHERE metrics.run_id = r.run_id AND metrics.step = r.step;
UPDATE runs SET epochs = COALESCE((SELECT MAX(json_extract(data, '$.epoch')) FROM metrics WHERE run_id = runs.id), 0);
DELETE FROM runs WHERE status IN ('created', 'ready') AND NOT EXISTS (SELECT 1 FROM metrics WHERE run_id = runs.id);
UPDATE runs SET status = 'interrupted' WHERE status IN ('created', 'ready');
"""
    + WEIGHTS
)

# Version 3 keeps uploaded tables (NumPy .npz bytes) and pretrained weights (safetensors bytes) in the
# store, so every replica finds what one replica stored (both named by a content or spec hash), and when
# each server process sharing the store was last seen (a replica on another machine cannot be asked).
MIGRATE_2_TO_3 = """
CREATE TABLE uploaded_tables (
    key TEXT PRIMARY KEY,
    created REAL NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE pretrained (
    key TEXT PRIMARY KEY,
    created REAL NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE servers (
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    seen REAL NOT NULL,
    PRIMARY KEY (host, pid)
);
"""
