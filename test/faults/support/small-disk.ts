/**
 * A small disk for one fault test: a tmpfs of a few MB mounted in a private mount namespace
 * (`unshare --user --map-root-user --mount`, no root needed where unprivileged user namespaces are
 * allowed), so it is invisible to every other process on the machine. A holder process keeps the
 * namespace (and the tmpfs) alive across engine restarts; engines join it with `nsenter`. The test
 * fills and frees the disk through the holder's view of it, /proc/<pid>/root.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../../scripts/lib/services';

export interface SmallDisk {
  /** The mount point, the same path inside the namespace (empty outside it). */
  dir: string;
  /** The command an engine runs under to see the small disk. */
  launcher: string[];
  /** Fills what is left with a ballast file; returns the bytes written. */
  fill(): number;
  /** Removes the ballast: the space is back. */
  free(): void;
  close(): Promise<void>;
}

/** Why no small disk can be had here (no unshare/nsenter, or user namespaces not allowed), or undefined. */
export function smallDiskUnavailable(): string | undefined {
  for (const tool of ['unshare', 'nsenter']) if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} not found`;
  const probe = spawnSync(
    'unshare',
    ['--user', '--map-root-user', '--mount', 'sh', '-c', 'mount -t tmpfs -o size=1m tmpfs /mnt 2>&1 || mount -t tmpfs -o size=1m tmpfs /tmp'],
    {
      encoding: 'utf8',
    },
  );
  return probe.status === 0 ? undefined : `cannot mount a tmpfs in a user and mount namespace: ${(probe.stderr || probe.stdout).trim()}`;
}

export async function smallDisk(sizeMb: number): Promise<SmallDisk> {
  const dir = mkdtempSync(join(tmpdir(), 'nextact-small-disk-'));
  const holder: ChildProcess = spawn(
    'unshare',
    ['--user', '--map-root-user', '--mount', 'sh', '-c', `mount -t tmpfs -o size=${sizeMb}m tmpfs '${dir}' && echo mounted && exec sleep 100000`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    holder.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('mounted')) resolve();
    });
    holder.stderr!.on('data', (c: Buffer) => {
      out += c.toString();
    });
    holder.once('exit', (code) => reject(new Error(`small disk holder exited (${code}): ${out}`)));
  });
  const inside = `/proc/${holder.pid}/root${dir}`;
  const ballast = join(inside, 'ballast');
  return {
    dir,
    // nsenter -m would start it in / (the namespace's root); the engine child runs from the repository.
    launcher: ['nsenter', '-t', String(holder.pid), '-U', '-m', `--wd=${repoRoot}`],
    fill() {
      let written = 0;
      // Big chunks first, then small ones for the last blocks.
      for (const size of [1 << 18, 1 << 12]) {
        const chunk = Buffer.alloc(size, 7);
        for (;;) {
          try {
            appendFileSync(ballast, chunk);
            written += size;
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw err;
          }
        }
      }
      return written;
    },
    free() {
      rmSync(ballast, { force: true });
    },
    async close() {
      if (holder.exitCode === null) {
        const gone = new Promise((r) => holder.once('exit', r));
        holder.kill('SIGKILL');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
