// Starts @20minutes/s3rver (an S3-compatible server) on 127.0.0.1 for Tally's tests and benchmark.
//
//   NODE_OPTIONS=--openssl-legacy-provider node tests/s3rver/server.js [PORT] [BUCKET ...]
//
// PORT (or S3RVER_PORT; 0 or none = any free port) is where it listens; the chosen port is printed on stdout as one
// line, "listening PORT", once the server accepts requests and the buckets exist. Objects live in a new temporary
// directory, removed when the process ends (SIGTERM, SIGINT, or stdin closing: the parent went away).
// The three workarounds from shared/RECIPES.md: allowMismatchedSignatures, the decodeURI fallback below, and
// NODE_OPTIONS=--openssl-legacy-provider (its paging tokens use DES; without it listing a second page fails); and a
// fourth, for listings with a delimiter (below).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

// The AWS SDK sends x-amz-copy-source as "bucket%2Fkey"; s3rver's decodeURI throws on sequences it must not decode.
const originalDecodeURI = global.decodeURI;
global.decodeURI = (text) => {
  try {
    return originalDecodeURI(text);
  } catch (e) {
    if (e instanceof URIError) return decodeURIComponent(text);
    throw e;
  }
};

const S3rver = require('@20minutes/s3rver');
const FilesystemStore = require('@20minutes/s3rver/lib/stores/filesystem');

// s3rver 4.0.4 prunes its directory walk below the first level under the prefix when a delimiter is given, so a
// common prefix whose objects lie deeper (raw_data/ -> year=2026/month=11/...) is never found. List without the
// delimiter and group the keys here, as S3 does; only objects count toward max-keys and truncation.
const listObjects = FilesystemStore.prototype.listObjects;
FilesystemStore.prototype.listObjects = async function (bucket, options) {
  const { delimiter, prefix = '', maxKeys = Infinity } = options;
  if (!delimiter) return listObjects.call(this, bucket, options);
  const all = await listObjects.call(this, bucket, { ...options, delimiter: '', maxKeys: Infinity });
  const commonPrefixes = new Set();
  const objects = [];
  let isTruncated = false;
  for (const object of all.objects) {
    const idx = object.key.slice(prefix.length).indexOf(delimiter);
    if (idx !== -1) {
      commonPrefixes.add(object.key.slice(0, prefix.length + idx + delimiter.length));
    } else if (objects.length < maxKeys) {
      objects.push(object);
    } else {
      isTruncated = true;
      break;
    }
  }
  return { objects, commonPrefixes: [...commonPrefixes].sort(), isTruncated };
};

const args = process.argv.slice(2);
const port = Number(args[0] ?? process.env.S3RVER_PORT ?? 0);
const buckets = args.slice(1).map((name) => ({ name }));
const directory = fs.mkdtempSync(path.join(os.tmpdir(), 's3rver-'));

const server = new S3rver({
  address: '127.0.0.1',
  port,
  silent: true,
  directory,
  allowMismatchedSignatures: true,
  configureBuckets: buckets,
});

let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  const done = () => {
    fs.rmSync(directory, { recursive: true, force: true });
    process.exit(code);
  };
  server.close().then(done, done);
  setTimeout(done, 2000).unref();
}

process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
process.stdin.on('end', () => stop(0));
process.stdin.on('error', () => stop(0));
process.stdin.resume();

server.run().then(
  (address) => console.log(`listening ${address.port}`),
  (error) => {
    console.error(`s3rver failed to start: ${error.message}`);
    fs.rmSync(directory, { recursive: true, force: true });
    process.exit(1);
  },
);
