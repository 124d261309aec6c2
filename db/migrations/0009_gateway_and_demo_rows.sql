-- The telephony gateway's role (contract v1.1), and the demo's own rows marked.

-- A gateway user logs in (or is given a long-lived token) as role 'gateway'.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'operator', 'health_office', 'gateway'));
ALTER TABLE tokens DROP CONSTRAINT tokens_role_check;
ALTER TABLE tokens ADD CONSTRAINT tokens_role_check
    CHECK (role IN ('admin', 'operator', 'health_office', 'responder', 'gateway'));

-- `dispatch112 demo` marks the users, teams and lines it creates; any other row is
-- real data, which the demo refuses to load beside unless forced.
ALTER TABLE users ADD COLUMN demo boolean NOT NULL DEFAULT false;
ALTER TABLE teams ADD COLUMN demo boolean NOT NULL DEFAULT false;
ALTER TABLE lines ADD COLUMN demo boolean NOT NULL DEFAULT false;

-- Rows an earlier demo made, before it marked them: its users, teams and lines by
-- name, so that `make run` on an existing demo database goes on loading.
UPDATE users SET demo = true
WHERE (username, role) IN (('admin', 'admin'), ('operator', 'operator'),
                           ('dinkes', 'health_office'));
UPDATE teams SET demo = true
WHERE (code, name) IN (('RSUD-1', 'Tim EKSIS 1 RSUD'), ('RSUD-2', 'Tim EKSIS 2 RSUD'),
                       ('LKS', 'Tim Puskesmas Lakessi'), ('LPD', 'Tim Puskesmas Lappadde'),
                       ('LMP', 'Tim Puskesmas Lompoe'),
                       ('MNM', 'Tim Puskesmas Madising Na Mario'),
                       ('CMP-R', 'Motor Reaksi Cepat Cempae'));
UPDATE lines SET demo = true
WHERE (number, label) IN (('112', 'EKSIS Call Centre 112'),
                          ('+6281100000112', 'Nomor cadangan 1 (demo)'));
