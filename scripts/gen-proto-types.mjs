// Regenerates src/tfserving/generated/ from protos/ with the same decoding
// options the runtime loader uses (protos/loader-options.json), so the types
// describe exactly the objects grpc-js hands us.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = process.argv[2] ?? path.join(root, 'src/tfserving/generated');
const opts = JSON.parse(readFileSync(path.join(root, 'protos/loader-options.json'), 'utf8'));
const flags = [];
for (const [key, value] of Object.entries(opts)) {
  if (value === true) flags.push(`--${key}`);
  else if (key === 'longs' || key === 'enums') flags.push(`--${key}=${value}`);
}
rmSync(outDir, { recursive: true, force: true });
const result = spawnSync(process.execPath, [
  path.join(root, 'node_modules/@grpc/proto-loader/build/bin/proto-loader-gen-types.js'),
  ...flags,
  '--grpcLib=@grpc/grpc-js',
  '--importFileExtension=.js',
  '-I', path.join(root, 'protos'),
  '-O', outDir,
  'tensorflow_serving/apis/prediction_service.proto',
  'tensorflow_serving/apis/model_service.proto',
], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);

// The generator writes the absolute path of each source proto into a header
// comment; keep it relative so the output does not depend on the checkout.
for (const entry of readdirSync(outDir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile()) continue;
  const file = path.join(entry.parentPath ?? entry.path, entry.name);
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, text.split(`${path.join(root, 'protos')}/`).join('protos/'));
}
