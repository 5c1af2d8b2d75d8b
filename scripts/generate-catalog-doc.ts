/** Writes docs/EVENT_CATALOG.md from the catalog, and the README's event count (`npm run catalog:docs`). */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderCatalogDoc, updateReadmeCount } from '../src/events/catalog-doc.js';

const path = new URL('../docs/EVENT_CATALOG.md', import.meta.url);
writeFileSync(path, renderCatalogDoc());
console.log(`wrote ${path.pathname}`);
const readme = new URL('../README.md', import.meta.url);
writeFileSync(readme, updateReadmeCount(readFileSync(readme, 'utf8')));
console.log(`updated the event count in ${readme.pathname}`);
