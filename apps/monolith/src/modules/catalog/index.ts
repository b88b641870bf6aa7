/** Catalog / inventory module: the only entry other modules may import. */
export { createCatalog } from './service';
export type { Catalog, PricedItem } from './service';
export type { CatalogTables } from './tables';
export { catalogAdminRoutes, catalogRoutes } from './routes';
