import { describe, expect, it } from 'vitest';
import { aptIndexMissing } from '../../../src/provision/rabbitmq-install.js';

describe('when ensureRabbitmq runs apt-get update before installing again', () => {
  it('on a missing or stale package index', () => {
    expect(aptIndexMissing('E: Unable to locate package rabbitmq-server')).toBe(true);
    expect(
      aptIndexMissing(
        "E: Package 'rabbitmq-server' has no installation candidate\nE: Unable to correct problems",
      ),
    ).toBe(true);
    expect(
      aptIndexMissing(
        'E: Failed to fetch http://deb.debian.org/debian/pool/main/r/rabbitmq-server.deb  404  Not Found [IP: 1.2.3.4 80]',
      ),
    ).toBe(true);
  });

  it('not on other failures, which an update would not cure', () => {
    expect(
      aptIndexMissing('E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 7'),
    ).toBe(false);
    expect(
      aptIndexMissing('E: You do not have enough free space in /var/cache/apt/archives/.'),
    ).toBe(false);
  });
});
