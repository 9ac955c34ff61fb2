-- A school owns its users, terms and (through its terms) classes.
CREATE TABLE schools (
    id           serial PRIMARY KEY,
    name         text NOT NULL,
    email_domain text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT schools_name_key UNIQUE (name),
    CONSTRAINT schools_email_domain_key UNIQUE (email_domain)
);

CREATE TABLE terms (
    id        serial PRIMARY KEY,
    school_id integer NOT NULL REFERENCES schools (id),
    name      text NOT NULL,
    starts_on date NOT NULL,
    ends_on   date NOT NULL,
    -- Also serves as the index on school_id.
    CONSTRAINT terms_school_id_name_key UNIQUE (school_id, name),
    CONSTRAINT terms_dates_check CHECK (ends_on > starts_on)
);
