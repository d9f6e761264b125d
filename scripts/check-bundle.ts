/**
 * Fails when the Worker bundle built by `npm run build` (wrangler deploy --dry-run) grows past the limit
 * documented in docs/operations.md. Cloudflare's own cap is 3 MiB gzipped on the free plan; ours is far below it
 * so that growth is noticed early.
 */
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

export const BUNDLE_LIMIT_GZIP_KIB = 400;

const bundle = readFileSync("dist/index.js");
const gzipKiB = gzipSync(bundle).length / 1024;
const line = `worker bundle: ${(bundle.length / 1024).toFixed(0)} KiB, ${gzipKiB.toFixed(0)} KiB gzipped (limit ${BUNDLE_LIMIT_GZIP_KIB} KiB gzipped)`;
if (gzipKiB > BUNDLE_LIMIT_GZIP_KIB) {
  process.stderr.write(`${line}: over the limit\n`);
  process.exit(1);
}
process.stdout.write(`${line}\n`);
