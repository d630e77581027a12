-- TP5: the course's table, created once when the database-data volume is new
-- (the official image runs /docker-entrypoint-initdb.d/*.sql only on an empty data folder).
CREATE TABLE IF NOT EXISTS students (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    first_name  text        NOT NULL CHECK (length(trim(first_name)) > 0),
    last_name   text        NOT NULL CHECK (length(trim(last_name)) > 0),
    email       text        NOT NULL UNIQUE CHECK (position('@' in email) > 1),
    cohort      text        NOT NULL DEFAULT 'M2-IOT',
    birth_date  date,
    grade       numeric(4,2) CHECK (grade BETWEEN 0 AND 20),
    enrolled_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO students (first_name, last_name, email, birth_date, grade) VALUES
    ('Ada',    'Lovelace', 'ada.lovelace@example.com',   DATE '1999-12-10', 18.5),
    ('Alan',   'Turing',   'alan.turing@example.com',    DATE '1998-06-23', 17.0),
    ('Grace',  'Hopper',   'grace.hopper@example.com',   DATE '2000-12-09', 19.0),
    ('Edsger', 'Dijkstra', 'edsger.dijkstra@example.com', DATE '1999-05-11', 16.5),
    ('Frances','Allen',    'frances.allen@example.com',  DATE '2001-08-04', 15.0)
ON CONFLICT (email) DO NOTHING;
