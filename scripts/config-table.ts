/** Prints README's configuration table from services/core/src/config.ts (the one source). */
import { configTable } from '../services/core/src/config';

console.log(configTable());
