-- Role assignments are held by a person as the identity provider knows them, its issuer and
-- subject (`iss`, `sub`); the name is a display attribute. An account re-created under an old
-- name gets a new subject and none of the old account's roles; a renamed one keeps its own.
--
-- A role given to a name nobody has signed in under yet waits, unbound (issuer and subject
-- NULL), and is bound to the first person who signs in under that name. Every assignment made
-- before this migration waits so: each person's next sign-in binds theirs.

-- The people who have signed in, with the name each was last seen under and since when.
CREATE TABLE people (
    issuer text NOT NULL,
    subject text NOT NULL,
    name text NOT NULL,
    named_at timestamptz NOT NULL,
    PRIMARY KEY (issuer, subject)
);
-- Whom a name means now: the person who most recently began to go by it.
CREATE INDEX people_by_name ON people (name, named_at DESC);
CALL grant_runtime('SELECT, INSERT, UPDATE', 'people');

ALTER TABLE role_assignments DROP CONSTRAINT role_assignments_pkey;
ALTER TABLE role_assignments
    ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ADD COLUMN issuer text,
    ADD COLUMN subject text,
    ADD CONSTRAINT role_assignments_bound_whole CHECK ((issuer IS NULL) = (subject IS NULL));
CREATE UNIQUE INDEX role_assignments_of_person
    ON role_assignments (issuer, subject, role, fonds_code) WHERE subject IS NOT NULL;
CREATE UNIQUE INDEX role_assignments_waiting
    ON role_assignments (principal, role, fonds_code) WHERE subject IS NULL;
-- The security administrator names people by name: their roles are found by it too.
CREATE INDEX role_assignments_by_name ON role_assignments (principal);
DROP INDEX role_assignments_held;
-- A waiting assignment the person holds already once bound adds nothing, and goes.
CALL grant_runtime('DELETE', 'role_assignments');
