-- Reserved: migration 0008 belongs to a branch developed alongside this one. When
-- both are merged, that branch's 0008_*.sql replaces this file (delete it), so that
-- the versions stay 1..n without gaps. Does nothing.
SELECT 1;
