/** Writes docs/EVENT_CATALOG.md from the catalog (`npm run catalog:docs`). */
import { writeFileSync } from 'node:fs';
import { renderCatalogDoc } from '../src/events/catalog-doc.js';

const path = new URL('../docs/EVENT_CATALOG.md', import.meta.url);
writeFileSync(path, renderCatalogDoc());
console.log(`wrote ${path.pathname}`);
