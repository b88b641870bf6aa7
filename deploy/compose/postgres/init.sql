-- The monolith's database: the monolith does not create it. The hybrid core's is made here too so
-- it exists from the first start, though the core creates it itself when it is missing, as each
-- microservice (and the hybrid's shipping service) creates `<base>_<service>` from DATABASE_URL.
CREATE DATABASE archbench_monolith;
CREATE DATABASE archbench_hybrid;
