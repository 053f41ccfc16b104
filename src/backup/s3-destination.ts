// The `s3://bucket/prefix` form of a backup destination, and what it may carry after `?`:
// the endpoint of an S3-compatible store, its region and whether it wants path-style
// addresses. Credentials never appear here: they come from the standard AWS places (the
// AWS_* variables, or a credentials file), so a destination can be logged and put into a
// resource's spec without leaking a secret (docs/operations/backup.md).

import { BackupDestinationInvalidError } from '../errors/errors.js';

export interface S3Destination {
  readonly bucket: string;
  /** '' or a prefix ending in '/': every file of this store lives below it. */
  readonly prefix: string;
  /** http(s)://host:port of an S3-compatible store; undefined for AWS itself. */
  readonly endpoint: string | undefined;
  /** Undefined: the SDK's own resolution (AWS_REGION, the config file), else us-east-1. */
  readonly region: string | undefined;
  /** Path-style addresses (`endpoint/bucket/key`), which most self-hosted stores need. */
  readonly forcePathStyle: boolean;
}

const QUERY_KEYS = new Set(['endpoint', 'region', 'path-style']);
/** S3's own rule for bucket names: 3..63 of a-z 0-9 . -, starting and ending with a letter or digit. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function isS3Destination(destination: string): boolean {
  return destination.startsWith('s3://');
}

/**
 * Parses `s3://bucket[/prefix][?endpoint=URL&region=NAME&path-style=true|false]`.
 * With an endpoint, path-style defaults to true (self-hosted stores rarely have the
 * wildcard DNS that virtual-host addresses need); without one, to false, as AWS wants.
 */
export function parseS3Destination(destination: string): S3Destination {
  const fail = (why: string): never => {
    throw new BackupDestinationInvalidError(destination, why);
  };
  if (!isS3Destination(destination)) fail('an S3 destination starts with s3://');
  // Checked on the text: URL parsing would quietly resolve `a/../b` to `b`.
  const rawPath = destination.slice('s3://'.length).split('?')[0] ?? '';
  if (rawPath.split('/').some((segment) => segment === '..' || segment === '.')) fail('the prefix may not contain . or .. segments');
  let url: URL;
  try {
    url = new URL(destination);
  } catch {
    return fail('not a URL of the form s3://bucket/prefix');
  }
  if (url.username !== '' || url.password !== '') fail('credentials do not belong in the destination; use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or a credentials file');
  const bucket = url.hostname;
  if (!BUCKET_NAME.test(bucket)) fail(`bucket ${JSON.stringify(bucket)} is not a valid S3 bucket name (3..63 of a-z 0-9 . -)`);
  if (url.port !== '') fail('the endpoint goes into ?endpoint=http://host:port, not after the bucket');
  const path = decodeURIComponent(url.pathname).replace(/^\/+/, '');
  const prefix = path === '' || path.endsWith('/') ? path : `${path}/`;
  for (const key of url.searchParams.keys()) {
    if (!QUERY_KEYS.has(key)) fail(`unknown option ${JSON.stringify(key)}; known: ${[...QUERY_KEYS].join(', ')}`);
  }
  const endpoint = url.searchParams.get('endpoint') ?? undefined;
  if (endpoint !== undefined) {
    let endpointUrl: URL | undefined;
    try {
      endpointUrl = new URL(endpoint);
    } catch {
      endpointUrl = undefined;
    }
    if (endpointUrl === undefined || (endpointUrl.protocol !== 'http:' && endpointUrl.protocol !== 'https:')) {
      fail(`endpoint ${JSON.stringify(endpoint)} is not an http:// or https:// URL`);
    }
  }
  const pathStyle = url.searchParams.get('path-style');
  if (pathStyle !== null && pathStyle !== 'true' && pathStyle !== 'false') fail('path-style is true or false');
  const forcePathStyle = pathStyle === null ? endpoint !== undefined : pathStyle === 'true';
  const region = url.searchParams.get('region') ?? undefined;
  return { bucket, prefix, endpoint, region, forcePathStyle };
}
