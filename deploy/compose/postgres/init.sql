-- Databases the apps do not create themselves: the monolith's and the hybrid core's.
-- (Each microservice creates `<base>_<service>` from DATABASE_URL when it is missing.)
CREATE DATABASE archbench_monolith;
CREATE DATABASE archbench_hybrid;
