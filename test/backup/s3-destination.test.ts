// Parsing of `s3://bucket/prefix?endpoint=...` backup destinations: what each part
// becomes, the defaults, and a clear BACKUP_DESTINATION_INVALID for every malformed one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseS3Destination } from '../../src/backup/s3-destination.js';
import { isQkvError } from '../../src/errors/errors.js';

describe('parseS3Destination', () => {
  it('reads bucket, prefix, endpoint, region and path style', () => {
    assert.deepEqual(parseS3Destination('s3://my-bucket/clusters/prod?endpoint=http://127.0.0.1:7070&region=eu-west-1'), {
      bucket: 'my-bucket',
      prefix: 'clusters/prod/',
      endpoint: 'http://127.0.0.1:7070',
      region: 'eu-west-1',
      forcePathStyle: true,
    });
  });

  it('defaults: no prefix, the SDK region, virtual-host addresses without an endpoint', () => {
    assert.deepEqual(parseS3Destination('s3://my-bucket'), { bucket: 'my-bucket', prefix: '', endpoint: undefined, region: undefined, forcePathStyle: false });
    assert.equal(parseS3Destination('s3://my-bucket/a/?endpoint=https://s3.example&path-style=false').forcePathStyle, false);
    assert.equal(parseS3Destination('s3://my-bucket/a/').prefix, 'a/');
  });

  it('refuses malformed destinations with BACKUP_DESTINATION_INVALID saying what is wrong', () => {
    const cases: Array<[string, RegExp]> = [
      ['file:///x', /starts with s3:\/\//],
      ['s3://UPPER/x', /not a valid S3 bucket name/],
      ['s3://ab', /not a valid S3 bucket name/],
      ['s3://key:secret@bucket/x', /credentials do not belong/],
      ['s3://bucket:9000/x', /endpoint goes into/],
      ['s3://bucket/a/../b', /\. or \.\. segments|not a valid/],
      ['s3://bucket/x?endpoint=ftp://host', /not an http/],
      ['s3://bucket/x?path-style=yes', /path-style is true or false/],
      ['s3://bucket/x?acl=public', /unknown option "acl"/],
    ];
    for (const [destination, reason] of cases) {
      assert.throws(
        () => parseS3Destination(destination),
        (error: unknown) => isQkvError(error) && error.code === 'BACKUP_DESTINATION_INVALID' && reason.test(error.message),
        destination,
      );
    }
  });
});
