import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configTable } from '../services/core/src/config';

describe('README', () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

  it('documents every configuration variable exactly as the code reads it', () => {
    // Regenerate with: npx tsx scripts/config-table.ts
    expect(readme).toContain(configTable());
  });

  it('gives the two quick-start commands', () => {
    expect(readme).toContain('npm run demo');
    expect(readme).toContain('npm test');
  });
});
