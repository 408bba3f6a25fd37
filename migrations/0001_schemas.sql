-- Schemas of the public contract: one per read-model owner (permits, revenue) and edgebus's own.
create schema if not exists permits;
create schema if not exists revenue;
create schema if not exists edgebus;
