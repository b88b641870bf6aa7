/**
 * Moved to `@archbench/topologies/bundle` (the one place that bundles and starts servers); kept
 * here so existing imports (deploy) keep working. New code imports from @archbench/topologies/bundle.
 */
export { SERVER_NODE_FLAGS, bundleEntries } from '@archbench/topologies/bundle';
