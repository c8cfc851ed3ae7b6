/**
 * Debian's headless chromium as a test instrument: load a page, let it run (virtual time, so the
 * charts' animation frames pass without waiting in real time), return the DOM and a screenshot.
 * No chromium means a failed test with the install command, never a silent pass.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function chromiumBinary(): string {
  const candidates = [process.env.CHROMIUM_BIN, 'chromium', 'chromium-browser', 'google-chrome'].filter((c): c is string => Boolean(c));
  for (const c of candidates) {
    if (spawnSync('sh', ['-c', `command -v "${c}"`], { stdio: 'ignore' }).status === 0) return c;
  }
  throw new Error('headless chromium not found: install it (as root: apt-get install -y chromium) or set CHROMIUM_BIN=/path/to/chromium');
}

function run(url: string, extra: string[], timeoutMs: number): string {
  const profile = mkdtempSync(join(tmpdir(), 'nextact-chromium-'));
  try {
    return execFileSync(
      chromiumBinary(),
      [
        '--headless',
        '--no-sandbox', // root in CI: chromium refuses its sandbox as root
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--no-first-run',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        '--virtual-time-budget=20000',
        ...extra,
        url,
      ],
      { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The page's DOM after its scripts ran. */
export const dumpDom = (url: string, timeoutMs = 90_000): string => run(url, ['--dump-dom'], timeoutMs);

/** A PNG of the page at the given window size. */
export function screenshot(url: string, file: string, size = '1320,2400', timeoutMs = 90_000): void {
  run(url, [`--screenshot=${file}`, `--window-size=${size}`], timeoutMs);
}
